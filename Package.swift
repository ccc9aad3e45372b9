// swift-tools-version: 6.0
// Holdfast: a CNI bridge plugin and an IPAM that never hands out an address a
// live container still holds. Targets are layered so the dangerous logic
// (allocation, reconcile planning) is pure and unit-testable:
//   Addressing  -> IPAM -> LeaseStore -> LeaseService -> IPAMPlugin -> BridgePlugin -> executables
//   LeaseService (no CNI) -> IpamctlKit
//   Addressing  -> CNI (protocol)          Netlink (libmnl) -> BridgePlugin
import PackageDescription

/// How the two CNI plugins are linked; each plugin run is a new process, so
/// what the kernel and the loader do before `main` is paid on every ADD/DEL.
/// - `--no-export-dynamic`: at every start the Swift runtime resolves its own
///   path with dladdr, a linear scan of the executable's dynamic symbol table
///   (3,400 entries with swift-system linked in, 400 without).
/// - `-no-pie`: a position-independent executable carries 41,000 relative
///   relocations (the Swift runtime's and the program's metadata), which the
///   loader applies at every start, each dirtying a copy-on-write page: half
///   of a run's 335 page faults. A fixed-address executable needs none (160
///   faults; VERSION 3.4 → 2.3 ms, docs/benchmarks.md). The reference Go
///   plugins are fixed-address executables too; shared libraries, heap and
///   stack stay randomised.
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--no-export-dynamic", "-Xclang-linker", "-no-pie"]),
]

let package = Package(
    name: "Holdfast",
    products: [
        .executable(name: "holdfast", targets: ["holdfast"]),
        .executable(name: "holdfast-ipam", targets: ["holdfast-ipam"]),
        .executable(name: "ipamctl", targets: ["ipamctl"]),
        .executable(name: "holdfast-watchdog", targets: ["holdfast-watchdog"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // System libraries from Debian (installed by scripts/setup.sh).
        // No pkgConfig: Debian installs both in the default library path, and the
        // -L/usr/lib/<triplet> pkg-config adds would come before the directory
        // scripts/build.sh uses to link libsqlite3 statically.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // Headers only: libmnl is dlopen()ed on first use by CMnlLazy, which defines
        // the libmnl functions Holdfast calls as forwarders (see CMnlLazy.c).
        .systemLibrary(name: "CMnl", providers: [.apt(["libmnl-dev"])]),
        .target(name: "CMnlLazy", dependencies: ["CMnl"]),
        // Headers only: libnftables is dlopen()ed on first use (see Sources/CNftables/shim.h).
        .systemLibrary(name: "CNftables", providers: [.apt(["libnftables-dev"])]),
        // SQLite's unix VFS minus a directory fsync per process (see its header).
        .target(name: "CSQLiteVFS", dependencies: ["CSQLite"]),
        // Headers only: libcurl is dlopen()ed on first use, by cluster mode only (see Sources/CCurl/shim.h).
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // The one system-call layer: swift-system's FileDescriptor and Errno, plus
        // write-all, atomic write with a directory fsync, readdir and spawn.
        .target(name: "CSpawn"),
        // argv for the Swift runtime without its /proc/self/maps scan at start-up (CArgv.c).
        .target(name: "CArgv"),
        .target(name: "SystemCalls", dependencies: ["CSpawn", .product(name: "SystemPackage", package: "swift-system")]),
        // Pure value types: IPv4/IPv6 addresses, CIDR prefixes, MAC addresses.
        .target(name: "Addressing"),
        // The release version, one string literal (read by scripts/package.sh too).
        .target(name: "HoldfastVersion"),
        // Pure IPAM core: ranges, range sets, allocator, leases, reconcile planning.
        .target(name: "IPAM", dependencies: ["Addressing"]),
        // Durable lease store: SQLite (WAL, synchronous=FULL) under an flock'd lock file.
        .target(name: "LeaseStore", dependencies: ["Addressing", "IPAM", "CSQLite", "CSQLiteVFS", "SystemCalls"]),
        // JSONValue and its one-pass parser and writer (no Codable on the hot path).
        .target(name: "JSONCore"),
        // Typed, path-naming reads of the parsed `ipam` object (node-local and cluster settings).
        .target(name: "ConfigFields", dependencies: ["Addressing", "JSONCore"]),
        // The CNI protocol: environment, config, results per version, errors, dispatcher.
        .target(name: "CNI", dependencies: ["Addressing", "JSONCore", "SystemCalls"]),
        // Typed netlink over libmnl: links, addresses, routes, neighbours, namespaces.
        .target(name: "Netlink", dependencies: ["Addressing", "CMnl", "CMnlLazy", "SystemCalls"]),
        // Test support only (no product links it): a recording netlink transport
        // that replays canned replies, for NetlinkTests and BridgePluginTests.
        .target(name: "NetlinkTesting", dependencies: ["Netlink", "CMnl"]),
        // Kernel truth for reconcile: a bridge's ports, their peers' addresses.
        .target(name: "KernelInventory", dependencies: ["Addressing", "IPAM", "Netlink", "SystemCalls"]),
        // A lean etcd v3 client (JSON gateway over libcurl) for cluster mode.
        .target(name: "Etcd", dependencies: ["CCurl"]),
        // Cluster mode: config, block layout and the claim protocol on etcd (no CNI, no SQLite).
        .target(name: "Cluster", dependencies: ["Addressing", "ConfigFields", "Etcd", "JSONCore"]),
        // The lease service: allocation, release, GC, status, flood guards, freeze,
        // and the kernel evidence that proves the store current (CurrencyGuard).
        // No CNI import: ipamctl and cluster mode use it without the protocol.
        .target(name: "LeaseService", dependencies: ["Addressing", "IPAM", "LeaseStore", "KernelInventory", "JSONCore", "SystemCalls",
                                                   "Cluster", "ConfigFields"]),
        // The thin CNI adapter over LeaseService (holdfast-ipam, and holdfast in-process).
        .target(name: "IPAMPlugin", dependencies: ["Addressing", "IPAM", "LeaseStore", "LeaseService", "CNI",
                                                 "KernelInventory"]),
        // The bridge plugin's logic (ADD/DEL/CHECK/STATUS/GC).
        .target(name: "BridgePlugin", dependencies: ["Addressing", "IPAM", "LeaseStore", "CNI", "Netlink", "LeaseService",
                                                   "IPAMPlugin", "KernelInventory", "CNftables", "SystemCalls"]),
        // ipamctl's commands as a library so tests can drive them.
        .target(name: "IpamctlKit", dependencies: [
            "Addressing", "IPAM", "LeaseStore", "LeaseService", "Netlink", "KernelInventory", "SystemCalls",
            "HoldfastVersion", "Cluster", "Etcd",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The OOM watchdog.
        .target(name: "Watchdog", dependencies: [
            "Addressing", "SystemCalls",
            "HoldfastVersion", "Cluster", "Etcd",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Thin executables. The plugins' link is tuned for start-up
        // (`pluginLinkerSettings`, above; a top-level constant must precede its use).
        .executableTarget(name: "holdfast", dependencies: ["BridgePlugin", "IPAMPlugin", "CNI", "HoldfastVersion", "CArgv"],
                          linkerSettings: pluginLinkerSettings),
        // Not a static executable (which measured fastest, docs/benchmarks.md):
        // cluster mode dlopen()s libcurl, which a static glibc cannot host safely.
        .executableTarget(name: "holdfast-ipam", dependencies: ["IPAMPlugin", "CNI", "HoldfastVersion", "CArgv"],
                          linkerSettings: pluginLinkerSettings),
        .executableTarget(name: "ipamctl", dependencies: ["IpamctlKit"]),
        .executableTarget(name: "holdfast-watchdog", dependencies: ["Watchdog"]),

        // Unit tests (Swift Testing). Integration tests live in Tests/integration (pytest).
        .testTarget(name: "AddressingTests", dependencies: ["Addressing"]),
        .testTarget(name: "SystemCallsTests", dependencies: ["SystemCalls"]),
        .testTarget(name: "IPAMTests", dependencies: ["Addressing", "IPAM"]),
        .testTarget(name: "LeaseStoreTests", dependencies: ["Addressing", "IPAM", "LeaseStore", "CSQLiteVFS"]),
        .testTarget(name: "CNITests", dependencies: ["Addressing", "CNI", "JSONCore"]),
        .testTarget(name: "NetlinkTests", dependencies: ["Addressing", "Netlink", "NetlinkTesting", "CMnl"]),
        .testTarget(name: "KernelInventoryTests", dependencies: ["Addressing", "KernelInventory", "Netlink"]),
        .testTarget(name: "WatchdogTests", dependencies: ["Watchdog"]),
        .testTarget(name: "LeaseServiceTests", dependencies: ["Addressing", "IPAM", "LeaseStore", "LeaseService", "JSONCore"]),
        .testTarget(name: "EtcdTests", dependencies: ["Etcd"]),
        .testTarget(name: "ClusterTests", dependencies: ["Addressing", "Etcd", "Cluster", "JSONCore"]),
        .testTarget(name: "BridgePluginTests", dependencies: ["Addressing", "CNI", "IPAM", "LeaseStore", "LeaseService", "IPAMPlugin",
                                                         "Netlink", "NetlinkTesting", "BridgePlugin"]),
    ]
)

// libFuzzer targets, declared only for scripts/fuzz.sh (HOLDFAST_FUZZ=1), which
// builds them with -sanitize=fuzzer,address in .build-fuzz. See Tests/Fuzz/README.md.
if Context.environment["HOLDFAST_FUZZ"] == "1" {
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("fuzz-addressing", ["Addressing"]),
        ("fuzz-cni-args", ["CNI"]),
        ("fuzz-cni-result", ["CNI"]),
        ("fuzz-bridge-config", ["BridgePlugin"]),
        ("fuzz-ipam-config", ["LeaseService"]),
        ("fuzz-netlink", ["Netlink", "CMnl"]),
    ]
    package.targets.append(.systemLibrary(name: "CFuzzer", path: "Tests/Fuzz/CFuzzer"))
    for (name, dependencies) in fuzzTargets {
        package.targets.append(.executableTarget(name: name, dependencies: dependencies + ["CFuzzer"], path: "Tests/Fuzz/\(name)"))
        package.products.append(.executable(name: name, targets: [name]))
    }
}

