import Glibc

/// How the agent process ended, decoded from a `waitpid` status.
public enum AgentExit: Sendable, Hashable, CustomStringConvertible {
    /// `exit(code)`.
    case exited(Int32)
    /// Killed by `signal` (SIGKILL for an OOM kill).
    case signaled(Int32)

    /// Decodes a raw `waitpid` status (the `WIFEXITED`/`WTERMSIG` macros are not
    /// importable into Swift, so this does their arithmetic).
    public init?(waitStatus status: Int32) {
        let signal = status & 0x7f
        if signal == 0 {
            self = .exited((status >> 8) & 0xff)
        } else if signal != 0x7f {   // 0x7f marks a stopped/continued child
            self = .signaled(signal)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): return "exit \(code)"
        case .signaled(let s): return "signal \(s) (\(AgentExit.signalName(s)))"
        }
    }

    static func signalName(_ s: Int32) -> String {
        switch s {
        case SIGKILL: return "SIGKILL"
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        default: return "SIG\(s)"
        }
    }
}
