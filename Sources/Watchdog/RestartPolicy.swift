/// Whether the agent is restarted after a failure.
public enum RestartMode: String, Sendable, CaseIterable {
    case onFailure = "on-failure"
    case never
}

/// What the supervisor does after an agent exit.
public enum ExitDecision: Sendable, Hashable {
    /// Fence the host and run the termination action. Never start the agent again.
    case fence
    /// Start the agent again after `delay` (restart number `attempt`, 1-based).
    case restart(after: Duration, attempt: Int)
    /// Stop supervising and exit with `exitCode`; no action.
    case stop(exitCode: Int32, reason: String)
}

/// The restart policy as a pure function of (outcome, history), so the part that
/// decides between "restart" and "terminate the host" is unit-tested without
/// processes or cgroups.
public struct RestartPolicy: Sendable, Hashable {
    public var mode: RestartMode
    /// Restarts allowed in a row; the next failure after that stops the watchdog.
    public var maxRestarts: Int
    public var backoff: Backoff
    /// A run at least this long resets the restart count and backoff: a crash
    /// after a day of service is not the sixth crash of a crash loop.
    public var resetAfter: Duration

    public init(mode: RestartMode, maxRestarts: Int, backoff: Backoff, resetAfter: Duration = .seconds(60)) {
        self.mode = mode
        self.maxRestarts = maxRestarts
        self.backoff = backoff
        self.resetAfter = resetAfter
    }

    /// - Parameters:
    ///   - outcome: the classified exit.
    ///   - restartsSoFar: consecutive restarts already made.
    ///   - ranFor: how long this run of the agent lived.
    ///   - stopping: the watchdog was asked to stop (TERM/INT) and forwarded it.
    /// - Returns: the decision and the restart count to carry forward.
    public func decide(_ outcome: ExitOutcome, restartsSoFar: Int, ranFor: Duration,
                       stopping: Bool) -> (decision: ExitDecision, restarts: Int) {
        // An OOM kill fences even during a shutdown: the host is suspect either way.
        if outcome == .oomKilled { return (.fence, restartsSoFar) }
        if stopping { return (.stop(exitCode: 0, reason: "stopped on request"), restartsSoFar) }
        switch (outcome, mode) {
        case (.clean, _):
            return (.stop(exitCode: 0, reason: "agent exited cleanly"), restartsSoFar)
        case (.failed, .never):
            return (.stop(exitCode: 1, reason: "agent failed and --restart never"), restartsSoFar)
        case (.failed, .onFailure):
            let count = ranFor >= resetAfter ? 0 : restartsSoFar
            if count >= maxRestarts {
                return (.stop(exitCode: 1, reason: "agent failed after \(count) restarts (--max-restarts \(maxRestarts))"), count)
            }
            return (.restart(after: backoff.delay(attempt: count), attempt: count + 1), count + 1)
        case (.oomKilled, _):
            return (.fence, restartsSoFar)
        }
    }
}
