// swift-tools-version: 6.0
// Holdfast: a CNI bridge plugin and an IPAM that never hands out an address a
// live container still holds. Targets are layered so the dangerous logic
// (allocation, reconcile planning) is pure and unit-testable:
//   Addressing  -> IPAM -> LeaseStore -> LeaseService -> IPAMPlugin -> BridgePlugin -> executables
//   LeaseService (no CNI) -> IpamctlKit
//   Addressing  -> CNI (protocol)          Netlink (libmnl) -> BridgePlugin
import PackageDescription

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
    ],
    targets: [
        // System libraries from Debian (installed by scripts/setup.sh).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        // Headers only: libnftables is dlopen()ed on first use (see Sources/CNftables/shim.h).
        .systemLibrary(name: "CNftables", providers: [.apt(["libnftables-dev"])]),

        // Pure value types: IPv4/IPv6 addresses, CIDR prefixes, MAC addresses.
        .target(name: "Addressing"),
        // Pure IPAM core: ranges, range sets, allocator, leases, reconcile planning.
        .target(name: "IPAM", dependencies: ["Addressing"]),
        // Durable lease store: SQLite (WAL, synchronous=FULL) under an flock'd lock file.
        .target(name: "LeaseStore", dependencies: ["Addressing", "IPAM", "CSQLite"]),
        // The CNI protocol: environment, config, results per version, errors, dispatcher.
        .target(name: "CNI", dependencies: ["Addressing"]),
        // Typed netlink over libmnl: links, addresses, routes, neighbours, namespaces.
        .target(name: "Netlink", dependencies: ["Addressing", "CMnl"]),
        // Kernel truth for reconcile: a bridge's ports, their peers' addresses.
        .target(name: "KernelInventory", dependencies: ["Addressing", "IPAM", "Netlink"]),
        // The lease service: allocation, release, GC, status, flood guards, freeze.
        // No CNI import: ipamctl and cluster mode use it without the protocol.
        .target(name: "LeaseService", dependencies: ["Addressing", "IPAM", "LeaseStore"]),
        // The thin CNI adapter over LeaseService (holdfast-ipam, and holdfast in-process).
        .target(name: "IPAMPlugin", dependencies: ["Addressing", "IPAM", "LeaseStore", "LeaseService", "CNI"]),
        // The bridge plugin's logic (ADD/DEL/CHECK/STATUS/GC).
        .target(name: "BridgePlugin", dependencies: ["Addressing", "IPAM", "LeaseStore", "CNI", "Netlink", "LeaseService",
                                                   "IPAMPlugin", "KernelInventory", "CNftables"]),
        // ipamctl's commands as a library so tests can drive them.
        .target(name: "IpamctlKit", dependencies: [
            "Addressing", "IPAM", "LeaseStore", "LeaseService", "Netlink", "KernelInventory",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The OOM watchdog.
        .target(name: "Watchdog", dependencies: [
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Thin executables.
        .executableTarget(name: "holdfast", dependencies: ["BridgePlugin", "IPAMPlugin", "CNI"]),
        .executableTarget(name: "holdfast-ipam", dependencies: ["IPAMPlugin", "CNI"]),
        .executableTarget(name: "ipamctl", dependencies: ["IpamctlKit"]),
        .executableTarget(name: "holdfast-watchdog", dependencies: ["Watchdog"]),

        // Unit tests (Swift Testing). Integration tests live in Tests/integration (pytest).
        .testTarget(name: "AddressingTests", dependencies: ["Addressing"]),
        .testTarget(name: "IPAMTests", dependencies: ["Addressing", "IPAM"]),
        .testTarget(name: "LeaseStoreTests", dependencies: ["Addressing", "IPAM", "LeaseStore"]),
        .testTarget(name: "CNITests", dependencies: ["Addressing", "CNI"]),
        .testTarget(name: "NetlinkTests", dependencies: ["Addressing", "Netlink", "CMnl"]),
        .testTarget(name: "WatchdogTests", dependencies: ["Watchdog"]),
        .testTarget(name: "LeaseServiceTests", dependencies: ["Addressing", "IPAM", "LeaseService"]),
        .testTarget(name: "BridgePluginTests", dependencies: ["Addressing", "BridgePlugin", "CNI", "IPAMPlugin", "LeaseStore",
                                                       "Netlink"]),
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
