/// Everything that stops the watchdog before or while it supervises, with
/// enough context for a one-line operator message.
public enum WatchdogError: Error, CustomStringConvertible, Equatable {
    case cgroupMissing(String)
    case notAMemoryCgroup(String)
    case cgroupSetup(String, SystemError)
    case counterUnreadable(String, String)
    case agentNotFound(String)
    case fenced(path: String, detail: String)
    case system(SystemError)

    public var description: String {
        switch self {
        case .cgroupMissing(let p): return "cgroup path does not exist: \(p)"
        case .notAMemoryCgroup(let p): return "not a memory cgroup (no memory.events or memory.oom_control): \(p)"
        case .cgroupSetup(let what, let e): return "cannot \(what): \(e)"
        case .counterUnreadable(let p, let why): return "cannot read the OOM counter \(p): \(why)"
        case .agentNotFound(let c): return "agent command not found or not executable: \(c)"
        case .fenced(let p, let d): return "host is fenced by \(p) (\(d)); the agent will not be started. Replace or inspect the host, then run `holdfast-watchdog unfence`"
        case .system(let e): return e.description
        }
    }

    /// The process exit code for this error.
    public var exitCode: Int32 {
        if case .fenced = self { return WatchdogExit.fenced }
        return WatchdogExit.setupFailed
    }
}

/// The watchdog's exit codes. `fenced` is distinct so a systemd unit can list
/// it in `RestartPreventExitStatus=`.
public enum WatchdogExit {
    public static let ok: Int32 = 0
    /// The agent failed and the restart policy gave up.
    public static let agentFailed: Int32 = 1
    /// Bad setup: cgroup, counter, agent binary.
    public static let setupFailed: Int32 = 2
    /// The host is fenced (an OOM kill happened); the agent was not (re)started.
    public static let fenced: Int32 = 10
}
