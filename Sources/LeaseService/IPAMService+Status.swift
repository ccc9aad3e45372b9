#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import IPAM
import LeaseStore

extension IPAMService {
    /// CHECK: the attachment must hold exactly the `expected` addresses.
    public func check(_ attachment: Attachment, expected: [IPAddress]) throws {
        let held = try leases(for: attachment)
        guard !held.isEmpty else {
            throw IPAMServiceError.checkFailed("no lease for \(attachment.containerID)/\(attachment.ifname)")
        }
        if let pending = held.first(where: { $0.state != .active }) {
            throw IPAMServiceError.checkFailed("lease \(pending.address) is \(pending.state.rawValue)")
        }
        let heldSet = Set(held.map(\.address)), expectedSet = Set(expected)
        guard heldSet == expectedSet else {
            throw IPAMServiceError.checkFailed(
                "leases \(held.map(\.address.description).sorted()) do not match prevResult \(expected.map(\.description).sorted())")
        }
    }

    /// STATUS: ready unless frozen or a range set has no address left at all.
    /// Read from a snapshot: STATUS never waits on the allocation lock.
    public func status() throws {
        let now = self.now()
        let (counts, frozen, conflict) = try store.read { txn in
            (try txn.counts(now: now, quarantine: config.quarantine), try txn.meta(MetaKey.frozen),
             config.cluster == nil ? nil : try txn.meta(ClusterMetaKey.conflict))
        }
        if let frozen {
            throw IPAMServiceError.notReady("network \"\(network)\" is frozen", details: frozen)
        }
        if let conflict {
            throw IPAMServiceError.notReady("network \"\(network)\" is in cluster block conflict", details: conflict)
        }
        for (index, set) in config.rangeSets.enumerated() {
            let capacity = set.ranges.reduce(UInt64(0)) { $0 &+ $1.capacity }
            if UInt64(counts.byRangeSet[index] ?? 0) >= capacity {
                throw IPAMServiceError.notReady("network \"\(network)\" range set \(index) is exhausted",
                                            details: "\(capacity) of \(capacity) addresses leased")
            }
        }
    }
}
