import Glibc

/// What an agent exit means for the host.
public enum ExitOutcome: Sendable, Hashable {
    /// Exit 0: the agent chose to stop.
    case clean
    /// The agent was OOM-killed: the one outcome that must never lead to a restart.
    case oomKilled
    /// Any other death: crash, non-zero exit, a signal that is not an OOM kill.
    case failed
}

/// Classifies an agent exit from two independent pieces of evidence: how the
/// process died and whether the OOM-kill counter moved during its life.
///
/// Why both: SIGKILL alone is also what `kill -9` and systemd's stop timeout
/// send, and a counter bump alone may be a helper process the agent survived.
/// The rule leans towards fencing, because the expensive mistake is the other
/// one (restarting an OOM-killed agent is how the duplicate address was born):
/// - SIGKILL with a counter bump is an OOM kill;
/// - exit 137 (a shell reporting its child's SIGKILL) with a bump is too;
/// - any other non-clean exit with a bump is treated as an OOM kill as well,
///   because the agent died after the kernel killed something in its group;
/// - no bump means no OOM kill, whatever the signal.
public enum ExitClassifier {
    public static func classify(_ exit: AgentExit, oomKillDelta: UInt64) -> ExitOutcome {
        switch exit {
        case .exited(0):
            return .clean
        case .exited, .signaled:
            return oomKillDelta > 0 ? .oomKilled : .failed
        }
    }

    /// True when the process death itself looks like the OOM killer's work
    /// (SIGKILL, or a shell's 128+9). Logged so an operator can see whether the
    /// fence rests on the strict rule or on the conservative one.
    public static func looksLikeOOMKill(_ exit: AgentExit) -> Bool {
        exit == .signaled(SIGKILL) || exit == .exited(128 + SIGKILL)
    }
}
