import Addressing
import Glibc
import Netlink

/// Reads the addresses configured in every network namespace on the host: the
/// evidence of what is live for networks without a bridge (macvlan, ipvlan,
/// ptp, anything that calls `holdfast-ipam`).
///
/// Where it looks: the bind mounts in `directories` (`/run/netns`, the
/// runtimes' own directories, `/run/user/UID/netns` for rootless runtimes) and
/// `/proc/PID/ns/net` of every process, deduplicated by nsfs dev and inode, so
/// each namespace is read once under the most useful path.
///
/// How: for each namespace, the calling thread enters it (`setns`), opens a
/// netlink socket there and returns at once; the address dump then runs on that
/// socket. All of it is synchronous on the calling thread (namespaces belong to
/// OS threads: never call this from code that may hop threads mid-way), and
/// `NetworkNamespace.withEntered` restores the original namespace or stops the
/// process.
///
/// Bounds: at most `maxNamespaces` distinct namespaces and `timeout` overall,
/// else it throws. A namespace that vanishes while being looked at (its process
/// exited, `ip netns delete` unmounted it, leaving the empty mount point) is in
/// teardown: nothing live can be in it and it is skipped. Any other failure
/// throws `NamespaceScanError.unreadable`: the result is all or nothing.
public struct NamespaceScan {
    /// Runtimes' netns directories scanned besides `/proc`.
    public static let defaultDirectories = ["/run/netns", "/var/run/netns", "/run/docker/netns"]
    public static let defaultMaxNamespaces = 4096
    public static let defaultTimeout = Duration.seconds(5)

    public var directories: [String]
    public var procRoot: String
    public var maxNamespaces: Int
    public var timeout: Duration

    public init(directories: [String] = NamespaceScan.defaultDirectories + NamespaceScan.rootlessDirectories(),
                procRoot: String = "/proc", maxNamespaces: Int = NamespaceScan.defaultMaxNamespaces,
                timeout: Duration = NamespaceScan.defaultTimeout) {
        self.directories = directories
        self.procRoot = procRoot
        self.maxNamespaces = maxNamespaces
        self.timeout = timeout
    }

    /// `/run/user/UID/netns` for every user with a runtime directory (rootless podman).
    public static func rootlessDirectories() -> [String] {
        NamespaceDirectory.entries("/run/user").map { "/run/user/\($0)/netns" }
    }

    /// What a scan found.
    public struct Result: Sendable {
        public var addresses: [ScannedAddress]
        /// Distinct namespaces read in full.
        public var namespacesRead: Int
        /// Paths skipped because their namespace was being torn down.
        public var skipped: [String]
    }

    /// Scans every namespace and returns the addresses for which `wanted` is
    /// true (link-local IPv6 is never reported: it is not handed out).
    public func run(wanted: (IPAddress) -> Bool) throws(NamespaceScanError) -> Result {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var skipped: [String] = []
        let candidates = self.candidates()
        // Group paths by namespace identity; directories come first, so a bind
        // mount names the namespace rather than an arbitrary process.
        var order: [NamespaceIdentity] = []
        var paths: [NamespaceIdentity: String] = [:]
        guard let nsfsDevice = Self.device(of: "\(procRoot)/self/ns/net") else {
            throw .unreadable(path: "\(procRoot)/self/ns/net", reason: "cannot stat our own namespace: errno \(errno)")
        }
        var unidentified: [String] = []  // pids whose namespace handle we may not open
        for path in candidates {
            var st = stat()
            guard stat(path, &st) == 0 else {
                if errno == ENOENT || errno == ESRCH { skipped.append(path); continue }
                if (errno == EACCES || errno == EPERM), let pid = procPID(path) {
                    unidentified.append(pid)
                    if order.count + unidentified.count > maxNamespaces {
                        throw .tooManyNamespaces(found: order.count + unidentified.count, limit: maxNamespaces)
                    }
                    continue
                }
                throw .unreadable(path: path, reason: "stat: \(String(cString: strerror(errno)))")
            }
            // Not on nsfs: an unmounted mount point (what `ip netns delete` or a
            // runtime tearing a sandbox down leaves until it unlinks it).
            guard UInt64(st.st_dev) == nsfsDevice else { skipped.append(path); continue }
            let id = NamespaceIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            if paths[id] == nil {
                paths[id] = path
                order.append(id)
                if order.count + unidentified.count > maxNamespaces {
                    throw .tooManyNamespaces(found: order.count + unidentified.count, limit: maxNamespaces)
                }
            }
        }
        let own = Self.identity(of: "/proc/thread-self/ns/net")
        var found: [ScannedAddress] = []
        var read = 0
        for id in order {
            // Checked before each namespace (listing /proc counts too).
            if clock.now > deadline {
                throw .deadlineExceeded(read: read, total: order.count,
                                        limitMs: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            }
            let path = paths[id]!
            switch try Self.read(path: path, isOwn: id == own, nsfsDevice: nsfsDevice, wanted: wanted) {
            case .gone: skipped.append(path)
            case .read(let addresses):
                read += 1
                found += addresses.map {
                    ScannedAddress(address: $0.address, netnsPath: path, ifname: $0.ifname, ifindex: $0.ifindex, inode: id.inode)
                }
            }
        }
        // Processes whose namespace we may not open (ptrace access check): read
        // their addresses from /proc/PID/net instead; they may duplicate a
        // namespace read above, which only repeats an address.
        for pid in unidentified {
            if clock.now > deadline {
                throw .deadlineExceeded(read: read, total: order.count + unidentified.count,
                                        limitMs: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            }
            let path = "\(procRoot)/\(pid)/ns/net"
            do {
                let addresses = try ProcNetAddresses.read(procRoot: procRoot, pid: pid)
                read += 1
                for a in addresses where !KernelInventory.isLinkLocal(a.address) && wanted(a.address) {
                    found.append(ScannedAddress(address: a.address, netnsPath: path, ifname: a.ifname, ifindex: 0, inode: 0))
                }
            } catch {
                switch error {
                case .gone: skipped.append(path)
                case .unreadable(let why): throw .unreadable(path: path, reason: why)
                }
            }
        }
        return Result(addresses: found, namespacesRead: read, skipped: skipped)
    }

    /// The pid in `<procRoot>/<pid>/ns/net`, nil for other paths.
    private func procPID(_ path: String) -> String? {
        guard path.hasPrefix(procRoot + "/"), path.hasSuffix("/ns/net") else { return nil }
        let pid = path.dropFirst(procRoot.count + 1).dropLast("/ns/net".count)
        return pid.isEmpty || !pid.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) ? nil : String(pid)
    }

    /// Every path that may name a network namespace, directories first.
    func candidates() -> [String] {
        var out: [String] = []
        for dir in directories {
            out += NamespaceDirectory.entries(dir).map { "\(dir)/\($0)" }
        }
        for pid in NamespaceDirectory.entries(procRoot) where pid.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            out.append("\(procRoot)/\(pid)/ns/net")
        }
        return out
    }

    private enum Outcome {
        case gone
        case read([(address: IPAddress, ifname: String?, ifindex: Int)])
    }

    private static func read(path: String, isOwn: Bool, nsfsDevice: UInt64,
                             wanted: (IPAddress) -> Bool) throws(NamespaceScanError) -> Outcome {
        do {
            let socket: NetlinkSocket
            if isOwn {
                socket = try NetlinkSocket()
            } else {
                let ns = try NetworkNamespace.open(path: path)
                defer { ns.close() }
                socket = try ns.withEntered { try NetlinkSocket() }
            }
            defer { socket.close() }
            let addresses = try socket.addresses().filter {
                !KernelInventory.isLinkLocal($0.address.address) && wanted($0.address.address)
            }
            guard !addresses.isEmpty else { return .read([]) }
            let names = Dictionary(try socket.links().map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
            return .read(addresses.map { ($0.address.address, names[$0.linkIndex], $0.linkIndex) })
        } catch let error as NetlinkError {
            // The process exited or the mount went away between listing and opening.
            if error.kind == .system && (error.errno == ENOENT || error.errno == ESRCH) { return .gone }
            // Unmounted between our stat and open (teardown racing the scan):
            // what we opened is the empty mount point, no longer on nsfs.
            if case .notANetworkNamespace = error.kind, device(of: path) != nsfsDevice { return .gone }
            throw .unreadable(path: path, reason: error.description)
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
    }

    static func device(of path: String) -> UInt64? {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_dev) : nil
    }

    static func identity(of path: String) -> NamespaceIdentity? {
        var st = stat()
        return stat(path, &st) == 0 ? NamespaceIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) : nil
    }
}

/// A namespace's identity: its nsfs device and inode.
struct NamespaceIdentity: Hashable {
    var device: UInt64
    var inode: UInt64
}
