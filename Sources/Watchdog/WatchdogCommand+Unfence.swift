import ArgumentParser
import Glibc

extension WatchdogCommand {
    /// `holdfast-watchdog unfence`: for an operator, after the host was replaced
    /// or inspected. Idempotent: no fence is not an error.
    public struct Unfence: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Remove the fence marker so the agent may be started again (operator only)."
        )

        @OptionGroup public var paths: PathOptions

        public init() {}

        public func run() throws {
            let file = FenceFile(path: paths.fence)
            let state = file.read()
            if case .fenced(let r) = state, r.watchdogPID != getpid(), kill(r.watchdogPID, 0) == 0,
               r.bootID == HostIdentity.bootID() {
                Log.warning("unfence_while_watchdog_running", [
                    "watchdog_pid": .int(Int64(r.watchdogPID)),
                    "detail": "the fencing watchdog may still be running its termination action; stop it first",
                ])
            }
            do {
                let removed = try file.remove()
                var detail: LogValue = .null
                switch state {
                case .fenced(let r): detail = .string("OOM kill at \(r.time.formatted(.iso8601)), boot \(r.bootID), \(r.exit)")
                case .unreadable(let why): detail = .string("unreadable marker: \(why)")
                case .absent: break
                }
                Log.info(removed ? "unfenced" : "not_fenced", ["fence": .string(paths.fence), "was": detail])
            } catch {
                Log.error("unfence_failed", ["error": .string(error.description)])
                throw ExitCode(WatchdogExit.setupFailed)
            }
        }
    }
}
