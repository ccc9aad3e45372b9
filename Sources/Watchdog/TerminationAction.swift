/// What the watchdog does to the host after an OOM kill of the agent.
public enum TerminationAction: Sendable, Hashable {
    /// Power off: `systemctl poweroff` when systemd is init (units stop in
    /// order), else sync + reboot(2) with RB_POWER_OFF.
    case poweroff
    /// Reboot, the same way.
    case reboot
    /// Run a command, e.g. the cloud's instance-termination call. Success is
    /// exit 0; the host is then expected to disappear within the action timeout.
    case exec([String])

    public var name: String {
        switch self {
        case .poweroff: return "poweroff"
        case .reboot: return "reboot"
        case .exec: return "exec"
        }
    }

    /// The command to spawn, or nil when the kernel must be called directly.
    func command(systemd: Bool) -> [String]? {
        switch self {
        case .poweroff: return systemd ? ["systemctl", "poweroff"] : nil
        case .reboot: return systemd ? ["systemctl", "reboot"] : nil
        case .exec(let argv): return argv
        }
    }
}
