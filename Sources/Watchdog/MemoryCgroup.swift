import Glibc

/// Which cgroup hierarchy a memory cgroup lives in; the OOM counter and its
/// notification differ between them.
public enum CgroupVersion: String, Sendable, Codable {
    case v1, v2
}

/// A memory cgroup directory the agent runs in.
///
/// Contracts: needs root (cgroupfs writes); `create` fails rather than reuse a
/// directory that already exists (two watchdogs must not share a group by
/// accident); `remove` only succeeds once no process is left in the group.
public struct MemoryCgroup: Sendable, Hashable {
    public var path: String
    public var version: CgroupVersion

    public init(path: String, version: CgroupVersion) {
        self.path = path
        self.version = version
    }

    /// An existing memory cgroup, its version told by its control files.
    public static func existing(_ path: String) throws(WatchdogError) -> MemoryCgroup {
        guard Sys.isDirectory(path) else { throw .cgroupMissing(path) }
        if Sys.exists("\(path)/memory.events") { return MemoryCgroup(path: path, version: .v2) }
        if Sys.exists("\(path)/memory.oom_control") { return MemoryCgroup(path: path, version: .v1) }
        throw .notAMemoryCgroup(path)
    }

    /// The parent to create agent groups under when none is given: the v2
    /// unified root if it offers the memory controller, else the v1 memory
    /// hierarchy, else nil (no memory cgroups: the /proc/vmstat fallback).
    public static func defaultParent(root: String = "/sys/fs/cgroup") -> String? {
        if let controllers = try? Sys.readFile("\(root)/cgroup.controllers"),
           controllers.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("memory") {
            return root
        }
        if Sys.exists("\(root)/memory/memory.oom_control") { return "\(root)/memory" }
        return nil
    }

    /// Creates `parent/name` and applies `memoryLimit` (bytes) if given.
    public static func create(under parent: String, name: String, memoryLimit: UInt64?) throws(WatchdogError) -> MemoryCgroup {
        guard Sys.isDirectory(parent) else { throw .cgroupMissing(parent) }
        let isV2 = Sys.exists("\(parent)/cgroup.controllers")
        if isV2 {
            // v2 only gives a child the memory controller if the parent delegates it.
            let subtree = (try? Sys.readFile("\(parent)/cgroup.subtree_control")) ?? ""
            if !subtree.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("memory") {
                do { try Sys.writeControl("\(parent)/cgroup.subtree_control", "+memory") } catch {
                    throw .cgroupSetup("enable memory controller in \(parent)", error)
                }
            }
        } else if !Sys.exists("\(parent)/memory.oom_control") {
            throw .notAMemoryCgroup(parent)
        }
        let path = "\(parent)/\(name)"
        guard mkdir(path, 0o755) == 0 else {
            throw .cgroupSetup("create cgroup", .last("mkdir \(path)"))
        }
        let group: MemoryCgroup
        do { group = try existing(path) } catch {
            _ = rmdir(path)
            throw error
        }
        if let limit = memoryLimit {
            let file = isV2 ? "memory.max" : "memory.limit_in_bytes"
            do { try Sys.writeControl("\(path)/\(file)", String(limit)) } catch {
                _ = rmdir(path)
                throw .cgroupSetup("set memory limit", error)
            }
        }
        return group
    }

    /// The file whose pid list places a process in this group.
    public var procsPath: String { "\(path)/cgroup.procs" }

    /// The file carrying the `oom_kill` counter.
    public var counterPath: String {
        version == .v2 ? "\(path)/memory.events" : "\(path)/memory.oom_control"
    }

    /// The number of OOM kills charged to this group so far.
    public func oomKills() throws(WatchdogError) -> UInt64 {
        let text: String
        do { text = try Sys.readFile(counterPath) } catch { throw .counterUnreadable(counterPath, "\(error)") }
        let value = version == .v2 ? OOMCounterText.oomKills(memoryEvents: text) : OOMCounterText.oomKills(oomControl: text)
        guard let value else { throw .counterUnreadable(counterPath, "no oom_kill field (kernel too old?)") }
        return value
    }

    /// The pids in the group now.
    public func processes() -> [pid_t] {
        guard let text = try? Sys.readFile(procsPath) else { return [] }
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    /// SIGKILLs every process left in the group (leftovers of the agent), waits
    /// up to `timeout` for them to go, and removes the directory.
    public func killAllAndRemove(timeout: Duration = .seconds(2)) -> Bool {
        let deadline = Sys.monotonicSeconds() + Double(timeout.components.seconds)
            + Double(timeout.components.attoseconds) / 1e18
        while true {
            let pids = processes()
            if pids.isEmpty, rmdir(path) == 0 || errno == ENOENT { return true }
            for pid in pids { _ = kill(pid, SIGKILL) }
            if Sys.monotonicSeconds() > deadline { return false }
            usleep(10_000)   // bounded teardown wait: the kernel gives no event for "group empty" on v1
        }
    }
}
