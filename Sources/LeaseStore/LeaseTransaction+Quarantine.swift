#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing

extension LeaseTransaction {
    /// Addresses resting in quarantine at `now` (released less than
    /// `quarantine` ago and not leased again), for per-range metrics. One
    /// query; the set is bounded by the release rate times the quarantine.
    public func quarantinedAddresses(now: Date, quarantine: Duration) throws(StoreError) -> [IPAddress] {
        precondition(scope.isOpen, "LeaseTransaction used outside its write/read closure")
        var result: [IPAddress] = []
        try connection.query("""
            SELECT q.address FROM quarantine q
            WHERE q.released_at > ?1 AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.address = q.address)
            """, [.int(now.milliseconds.subtractingSaturated(quarantine.milliseconds))]) { stmt in
            if let text = stmt.text(0), let address = IPAddress(text) { result.append(address) }
        }
        return result
    }
}
