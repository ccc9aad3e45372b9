import ArgumentParser
import Glibc

extension WatchdogCommand {
    /// `holdfast-watchdog status [--json]`: agent pid, cgroup, OOM count, fence.
    /// Exits 10 when the host is fenced, so scripts can test it.
    public struct Status: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Show the agent pid, cgroup, OOM-kill count and whether the host is fenced (exit 10 if fenced)."
        )

        @OptionGroup public var paths: PathOptions

        @Flag(help: "Print one JSON object.")
        public var json = false

        public init() {}

        public func run() throws {
            let fence = FenceFile(path: paths.fence).read()
            let state = (try? Sys.readFile(paths.state)).flatMap { try? SupervisorState.decode(Array($0.utf8)) }
            let alive = state.map { kill($0.watchdogPID, 0) == 0 } ?? false
            // Prefer a fresh counter reading over the published one.
            var oomKills = state?.oomKills
            if let path = state?.cgroup, let group = try? MemoryCgroup.existing(path), let n = try? group.oomKills() {
                oomKills = n
            }
            let fenceText: LogValue
            var fenceTime: LogValue = .null
            switch fence {
            case .absent: fenceText = .bool(false)
            case .fenced(let r): fenceText = .bool(true); fenceTime = .string(r.time.formatted(.iso8601))
            case .unreadable: fenceText = .bool(true)
            }
            let fields: [(String, LogValue)] = [
                ("fenced", fenceText),
                ("fence", .string(paths.fence)),
                ("fenced_at", fenceTime),
                ("watchdog_pid", state.map { .int(Int64($0.watchdogPID)) } ?? .null),
                ("watchdog_running", .bool(alive)),
                ("phase", state.map { .string(alive ? $0.phase : "\($0.phase) (watchdog not running)") } ?? .null),
                ("agent_pid", (alive ? state?.agentPID : nil).map { .int(Int64($0)) } ?? .null),
                ("cgroup", state?.cgroup.map { .string($0) } ?? .null),
                ("oom_source", state.map { .string($0.oomSource) } ?? .null),
                ("oom_kills", oomKills.map { .int(Int64($0)) } ?? .null),
                ("restarts", state.map { .int(Int64($0.restarts)) } ?? .null),
            ]
            if json {
                print("{" + fields.map { LogValue.quote($0.0) + ":" + $0.1.json }.joined(separator: ",") + "}")
            } else {
                for (k, v) in fields {
                    let text: String
                    if case .string(let s) = v { text = s } else { text = v.json }
                    print("\(k): \(text)")
                }
            }
            if fence.isFenced { throw ExitCode(WatchdogExit.fenced) }
        }
    }
}
