import ArgumentParser
import HoldfastVersion

/// `holdfast-watchdog`: runs the container agent so that an OOM kill of it
/// terminates the host instead of restarting the agent beside containers it
/// has forgotten (see DESIGN.md, the first incident).
///
/// A library type without `@main`: the executable's `main.swift` calls
/// `WatchdogCommand.main()`, and tests drive the subcommands directly.
public struct WatchdogCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "holdfast-watchdog",
        abstract: "Supervise the container agent; after an OOM kill, fence and terminate the host.",
        version: HoldfastVersion.string,
        subcommands: [Run.self, Status.self, Unfence.self]
    )

    public init() {}
}

/// Paths shared by every subcommand.
public struct PathOptions: ParsableArguments {
    @Option(help: "Durable fence marker; while it exists the agent is never started.")
    public var fence: String = FenceFile.defaultPath

    @Option(help: "State file published by a running watchdog, read by `status`.")
    public var state: String = SupervisorState.defaultPath

    public init() {}
}

/// `--action` values.
public enum ActionKind: String, ExpressibleByArgument, CaseIterable, Sendable {
    case poweroff, reboot, exec
}

extension RestartMode: ExpressibleByArgument {}

extension ByteSize: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
