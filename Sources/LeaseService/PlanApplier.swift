#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import IPAM
import LeaseStore

/// Applies a `ReconcilePlan` to a store: the one path by which live addresses
/// are adopted, used by ADD's kernel guards (bridge and namespace evidence) and
/// by `ipamctl reconcile --apply`.
///
/// The adoption rule:
/// - Every planned address still unleased and inside one of `rangeSets` is
///   adopted, whether or not a bridge port is known for it: a live address needs
///   protection whichever plugin configured it.
/// - An address outside every range set is not adopted. The allocator can never
///   hand it out, so it needs no protection, and a lease must name the range set
///   it belongs to (filing it under set 0, as reconcile once did, would make
///   pools, metrics and GC count an address that is not the pool's).
/// - The lease is attributed to what the kernel says holds it (`holder`): the
///   container and ifname from a port's alias, else `adopted-<host interface or
///   netns name>`, with the namespace path when known, so reconcile can release
///   it once that namespace is gone and GC never touches it.
public struct PlanApplier {
    public var rangeSets: [RangeSet]
    public var now: Date
    /// Attribution for an adopted address.
    public var holder: (ObservedAddress) -> LiveHolder

    public init(rangeSets: [RangeSet], now: Date, holder: @escaping (ObservedAddress) -> LiveHolder = { _ in LiveHolder() }) {
        self.rangeSets = rangeSets
        self.now = now
        self.holder = holder
    }

    /// Inserts the leases for `plan.adopt` (by the rule above); returns them.
    public func adopt(_ plan: ReconcilePlan, in txn: LeaseTransaction) throws -> [Lease] {
        var adopted: [Lease] = []
        for seen in plan.adopt {
            guard let rangeSet = rangeSets.firstIndex(where: { $0.range(containing: seen.address) != nil }),
                  try txn.lease(at: seen.address) == nil else { continue }
            let who = holder(seen)
            let netns = who.netns ?? seen.netnsPath
            let place = seen.hostInterface ?? netns.map { String($0.split(separator: "/").last ?? "") } ?? "unknown"
            let lease = Lease(address: seen.address, rangeSetIndex: rangeSet,
                              containerID: who.containerID ?? "\(IPAMService.adoptedPrefix)\(place)",
                              ifname: who.ifname ?? "unknown", netns: netns, createdAt: now,
                              hostInterface: seen.hostInterface, hostIfindex: seen.hostIfindex, bootID: BootID.current)
            try txn.insert(lease)
            adopted.append(lease)
        }
        return adopted
    }

    /// Releases `plan.release` unless the plan refused; returns what it released.
    public func release(_ plan: ReconcilePlan, in txn: LeaseTransaction, reason: String) throws -> [Lease] {
        guard plan.refusal == nil else { return [] }
        try DestructiveGuard.release(plan.release, in: txn, reason: reason, at: now)
        return plan.release
    }

    /// Plans adoptions only (no release: an allocating ADD never releases) from
    /// what the kernel shows live, and applies them.
    public func adoptLive(_ observed: [ObservedAddress], in txn: LeaseTransaction) throws -> [Lease] {
        let plan = ReconcilePlanner.plan(leases: try txn.leases(), inventory: Inventory(status: .complete, observed: observed,
                                                                                           existingNetnsPaths: []),
                                         policy: ReconcilePolicy(maxReleaseFraction: 0, force: false, currentBootID: nil))
        return try adopt(plan, in: txn)
    }
}
