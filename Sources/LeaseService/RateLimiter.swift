#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LeaseStore

/// A per-network token bucket for new allocations, kept in the store's meta
/// table so that it holds across the many short-lived plugin processes (an
/// in-memory bucket would reset with every exec).
///
/// `take` runs inside the allocation transaction: the decrement commits with
/// the lease (no extra fsync), and a refusal rolls back with everything else.
/// Refill is computed from elapsed wall-clock time; a clock stepping backwards
/// refills nothing rather than going negative.
public enum RateLimiter {

    /// Takes one token or throws `OperationsError.rateLimited` (CNI 11).
    /// No limit configured: does nothing and touches no row.
    public static func take(_ txn: LeaseTransaction, _ limit: RateLimit?, network: String, now: Date) throws {
        guard let limit else { return }
        let nowMs = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        var tokens = Double(limit.burst)
        var stamp = nowMs
        if let t = try txn.meta(MetaKey.rateTokens).flatMap(Double.init), let at = try txn.meta(MetaKey.rateAtMs).flatMap(Int64.init) {
            let elapsed = max(0, Double(nowMs - at) / 1000)
            tokens = min(Double(limit.burst), t + elapsed * limit.perSecond)
            // Never move the stamp backwards: a caller whose clock reading is older
            // than the last refill (it read the time, then waited for the lock)
            // would otherwise hand the next caller a refill it already had.
            stamp = max(nowMs, at)
        }
        guard tokens >= 1 else {
            let waitMs = Int(((1 - tokens) / limit.perSecond * 1000).rounded(.up))
            throw OperationsError.rateLimited(network: network, limit: limit, retryAfterMs: waitMs)
        }
        try txn.setMeta(MetaKey.rateTokens, String(tokens - 1))
        try txn.setMeta(MetaKey.rateAtMs, String(stamp))
    }
}
