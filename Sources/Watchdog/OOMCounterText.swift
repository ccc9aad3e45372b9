/// Parsers for the kernel's flat keyed files that carry the OOM-kill counter.
///
/// All three share the "key value" line format:
/// - cgroup v2 `memory.events`: `low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n`
/// - cgroup v1 `memory.oom_control`: `oom_kill_disable 0\nunder_oom 0\noom_kill 1\n`
/// - `/proc/vmstat`: `... oom_kill 3 ...` (host-wide, the last resort)
///
/// Parsing is strict about the one key that matters: a file without `oom_kill`
/// (an old kernel) is `nil`, not zero, so the caller falls back explicitly
/// instead of silently never seeing an OOM kill.
public enum OOMCounterText {
    /// Every `key value` line whose value is an unsigned integer.
    public static func fields(_ text: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, let value = UInt64(parts[1]) else { continue }
            result[String(parts[0])] = value
        }
        return result
    }

    /// `oom_kill` from cgroup v2 `memory.events`.
    public static func oomKills(memoryEvents text: String) -> UInt64? {
        fields(text)["oom_kill"]
    }

    /// `oom_kill` from cgroup v1 `memory.oom_control` (kernels >= 4.13).
    public static func oomKills(oomControl text: String) -> UInt64? {
        fields(text)["oom_kill"]
    }

    /// `under_oom` from cgroup v1 `memory.oom_control`: true while the group is
    /// stuck at its limit (only possible with `oom_kill_disable 1`).
    public static func underOOM(oomControl text: String) -> Bool? {
        fields(text)["under_oom"].map { $0 != 0 }
    }

    /// `oom_kill` from `/proc/vmstat`: host-wide, counts every OOM kill on the machine.
    public static func oomKills(vmstat text: String) -> UInt64? {
        fields(text)["oom_kill"]
    }
}
