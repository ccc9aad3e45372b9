/// Exponential backoff: `initial`, `initial*factor`, ... capped at `maximum`.
/// Used between agent restarts and between termination-action retries; these
/// are the only sleeps in the watchdog (everything else is event-driven).
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public var factor: Int

    public init(initial: Duration, maximum: Duration, factor: Int = 2) {
        self.initial = initial
        self.maximum = max(maximum, initial)
        self.factor = max(factor, 1)
    }

    /// Delay before attempt number `attempt` (0-based).
    public func delay(attempt: Int) -> Duration {
        var d = initial
        var n = 0
        while n < attempt && d < maximum {
            d = d * factor
            n += 1
        }
        return min(d, maximum)
    }

    /// The first `count` delays, for logs and tests.
    public func sequence(_ count: Int) -> [Duration] {
        (0..<count).map(delay(attempt:))
    }
}
