/// Flood protection refusals. Both are transient, so both are CNI error 11
/// ("try again later"): the runtime backs off and retries instead of queueing
/// more work on a node that is already saturated.
public enum OperationsError: Error, CustomStringConvertible, Sendable {
    /// The network's allocation token bucket is empty.
    case rateLimited(network: String, limit: RateLimit, retryAfterMs: Int)
    /// Every waiter slot of the network is taken.
    case tooManyWaiters(network: String, max: Int)

    public var description: String {
        switch self {
        case .rateLimited(let n, let l, let r):
            "network \"\(n)\" allocation rate limit reached (\(l.perSecond)/s, burst \(l.burst)); retry in about \(r) ms"
        case .tooManyWaiters(let n, let m):
            "network \"\(n)\" has \(m) plugin processes waiting for its lock already (ipam.maxWaiters); retry later"
        }
    }
}
