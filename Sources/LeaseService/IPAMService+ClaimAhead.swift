#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Cluster
import IPAM
import LeaseStore

extension IPAMService {
    /// How long one claim-ahead attempt keeps others of this node from trying
    /// again: it serializes concurrent ADDs that all notice the same low pool,
    /// and after a failure (etcd down, pool full) it is the back-off, so an
    /// unreachable etcd costs at most one try per window instead of one per ADD.
    static let claimAheadWindow = Duration.seconds(10)

    /// The pools whose owned blocks have fewer free addresses than
    /// `ClusterPool.claimAheadBelow`, counted in `txn` (one grouped count).
    /// A pool with no block at all is not "low": the ADD claims for it anyway.
    func lowPools(in txn: LeaseTransaction, cluster: ClusterConfig) throws -> [Int] {
        let blocks = try txn.clusterBlocks()
        guard !blocks.isEmpty else { return [] }
        let used = try txn.counts(now: now(), quarantine: .zero).byRangeSet
        return try cluster.pools.indices.filter { pool in
            let mine = blocks.filter { $0.pool == pool }
            guard !mine.isEmpty else { return false }
            let capacity = try mine.reduce(UInt64(0)) { $0 &+ (try IPRange(subnet: $1.cidr)).capacity }
            let taken = UInt64(max(used[pool] ?? 0, 0))
            return (capacity > taken ? capacity - taken : 0) < cluster.pools[pool].claimAheadBelow
        }
    }

    /// Claims one more block for each pool in `low`, after the ADD that noticed
    /// it has committed its lease. Best effort, never an error:
    /// - it runs only if a whole etcd request deadline still fits in the run's
    ///   `lockTimeoutMs` budget;
    /// - one ADD at a time per node does it (a token in the store's meta,
    ///   re-checking the pool is still low under the store lock), and a failed
    ///   attempt holds the token for `claimAheadWindow` as a back-off;
    /// - a failure (etcd unreachable, pool full, outcome unknown) is logged to
    ///   stderr and ignored: the ADD already has its address.
    /// The claim itself is `claimBlock`, the same proof-based path an
    /// exhausted pool takes (create-if-absent on the block key, recorded in the
    /// store before any address of it is used).
    func claimAhead(_ low: [Int], cluster: ClusterConfig) {
        guard !low.isEmpty, remainingBudget() >= cluster.etcd.timeout else { return }
        let now = self.now()
        let pools: [Int]
        do {
            pools = try store.write(lockTimeout: remainingBudget()) { txn in
                if let text = try txn.meta(ClusterMetaKey.claimAhead), let since = Int64(text),
                   Self.ms(now) - since < Self.claimAheadWindow.ms { return [] }
                let still = try lowPools(in: txn, cluster: cluster).filter(low.contains)
                if !still.isEmpty { try txn.setMeta(ClusterMetaKey.claimAhead, String(Self.ms(now))) }
                return still
            }
        } catch {
            Self.logClaimAhead("network \"\(network)\": claim-ahead skipped: \(error)")
            return
        }
        var failed = false
        for pool in pools {
            do {
                try claimBlock(pool: pool, cluster: cluster)
                Self.logClaimAhead("network \"\(network)\": pool \(pool) ran low, claimed one more block ahead")
            } catch {
                failed = true
                Self.logClaimAhead("network \"\(network)\": claim-ahead for pool \(pool) failed (ignored, the ADD stands): \(error)")
            }
        }
        if !pools.isEmpty, !failed {
            _ = try? store.write(lockTimeout: remainingBudget()) { try $0.setMeta(ClusterMetaKey.claimAhead, nil) }
        }
    }

    private static func ms(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    private static func logClaimAhead(_ line: String) {
        let bytes = Array("holdfast: \(line)\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

extension Duration {
    fileprivate var ms: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
