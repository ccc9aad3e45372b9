import Glibc

/// Where OOM kills are counted, and how the watchdog is woken when they happen.
public enum OOMSource: Sendable, Hashable {
    /// cgroup v2: `oom_kill` in `memory.events`, woken by inotify IN_MODIFY
    /// (the kernel raises a file-modified event on every change of that file).
    case cgroupV2(MemoryCgroup)
    /// cgroup v1: `oom_kill` in `memory.oom_control`, woken by an eventfd
    /// registered through `cgroup.event_control`.
    case cgroupV1(MemoryCgroup)
    /// No memory cgroup: the host-wide `oom_kill` in /proc/vmstat, with no
    /// notification (checked at the agent's exit, which is what decides anyway).
    case vmstat

    public init(_ group: MemoryCgroup?) {
        switch group?.version {
        case .v2?: self = .cgroupV2(group!)
        case .v1?: self = .cgroupV1(group!)
        case nil: self = .vmstat
        }
    }

    public var name: String {
        switch self {
        case .cgroupV2: return "cgroup-v2 memory.events"
        case .cgroupV1: return "cgroup-v1 memory.oom_control"
        case .vmstat: return "/proc/vmstat"
        }
    }

    /// The current counter value.
    public func oomKills() throws(WatchdogError) -> UInt64 {
        switch self {
        case .cgroupV2(let g), .cgroupV1(let g):
            return try g.oomKills()
        case .vmstat:
            let text: String
            do { text = try Sys.readFile("/proc/vmstat") } catch { throw .counterUnreadable("/proc/vmstat", "\(error)") }
            guard let v = OOMCounterText.oomKills(vmstat: text) else {
                throw .counterUnreadable("/proc/vmstat", "no oom_kill field")
            }
            return v
        }
    }
}

/// An open notification channel for an `OOMSource`: a file descriptor that
/// becomes readable when the OOM counter may have changed. Owned by one
/// supervisor; `close()` before removing the cgroup.
final class OOMWatch {
    let source: OOMSource
    /// The pollable descriptor, nil for the vmstat fallback.
    private(set) var fd: Int32?
    private var controlFD: Int32?

    init(_ source: OOMSource) throws(WatchdogError) {
        self.source = source
        switch source {
        case .cgroupV2(let g):
            let ifd = inotify_init1(Sys.cloexec | Sys.nonblock)
            guard ifd >= 0 else { throw .system(.last("inotify_init1")) }
            guard inotify_add_watch(ifd, g.counterPath, UInt32(IN_MODIFY)) >= 0 else {
                let e = SystemError.last("inotify_add_watch \(g.counterPath)")
                Sys.close(ifd)
                throw .cgroupSetup("watch memory.events", e)
            }
            fd = ifd
        case .cgroupV1(let g):
            // Register "<eventfd> <fd of memory.oom_control>" with cgroup.event_control:
            // the kernel then signals the eventfd on every OOM in this group (and
            // when the group is removed).
            do throws(SystemError) {
                let efd = try Sys.eventfd()
                let cfd: Int32
                do { cfd = try Sys.open(g.counterPath, O_RDONLY) } catch { Sys.close(efd); throw error }
                do {
                    try Sys.writeControl("\(g.path)/cgroup.event_control", "\(efd) \(cfd)")
                } catch {
                    Sys.close(efd); Sys.close(cfd)
                    throw error
                }
                fd = efd
                controlFD = cfd
            } catch {
                throw .cgroupSetup("register OOM eventfd", error)
            }
        case .vmstat:
            fd = nil
        }
    }

    /// Consumes pending notifications so poll() sleeps again.
    func drain() {
        guard let fd else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }

    func close() {
        if let fd { Sys.close(fd) }
        if let controlFD { Sys.close(controlFD) }
        fd = nil
        controlFD = nil
    }

    deinit { close() }
}
