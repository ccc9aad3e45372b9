#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import Cluster
import Etcd
import IPAM
import LeaseStore

extension IPAMService {
    /// Returns the attachment's leases, allocating one address per range set
    /// (per pool in cluster mode) if it has none; see `allocateInStore`.
    ///
    /// Cluster mode: addresses come only from blocks recorded in the local
    /// store as owned. An ADD that finds a free address there sends no etcd
    /// request. When a pool has no free address, this claims the next free
    /// block in etcd within `lockTimeoutMs` of the run's start, records it in
    /// the store (committed) and allocates again; if etcd cannot be reached the
    /// ADD fails with `ClusterAllocationError.etcdUnavailable` (CNI 11) having
    /// changed nothing.
    public func allocate(_ attachment: Attachment, details: AttachmentDetails, requested: [IPAddress] = [],
                         liveAddresses: (LeaseTransaction) throws -> Set<IPAddress> = { _ in [] },
                         beforeCommit: (LeaseTransaction) throws -> Void = { _ in }) throws -> Allocation {
        guard let cluster = config.cluster else {
            return try allocateInStore(attachment, details: details, requested: requested,
                                       liveAddresses: liveAddresses, beforeCommit: beforeCommit)
        }
        var claims = 0
        while true {
            do {
                return try allocateInStore(attachment, details: details, requested: requested, liveAddresses: liveAddresses) { txn in
                    try recordLeaseBlocks(attachment, in: txn)
                    try beforeCommit(txn)
                }
            } catch IPAMServiceError.exhausted(_, let pool, _) where claims < cluster.pools.count * 2 && pool < cluster.pools.count {
                claims += 1
                try claimBlock(pool: pool, cluster: cluster)
                try markBootVerified()
            } catch is BootNotVerified where claims < cluster.pools.count * 2 {
                claims += 1
                try verifyBoot(cluster: cluster)
            }
        }
    }

    /// The range sets allocation draws from: the configured ones, or in cluster
    /// mode one per pool made of the blocks the store records as owned.
    ///
    /// - Throws: `ClusterAllocationError.conflict` while a block this node holds
    ///   is owned by another node in etcd; `.exhausted` for a pool with no block.
    func allocationRangeSets(in txn: LeaseTransaction) throws -> [RangeSet] {
        guard let cluster = config.cluster else { return config.rangeSets }
        if let conflict = try txn.meta(ClusterMetaKey.conflict) {
            throw ClusterAllocationError.conflict(network: network, detail: conflict)
        }
        let blocks = try txn.clusterBlocks()
        if !blocks.isEmpty, try txn.meta(ClusterMetaKey.verifiedBoot) != (BootID.current ?? "unknown") {
            throw BootNotVerified()
        }
        var sets: [RangeSet] = []
        for (index, _) in cluster.pools.enumerated() {
            let ranges = try blocks.filter { $0.pool == index }.map { try IPRange(subnet: $0.cidr) }
            guard !ranges.isEmpty else {
                throw IPAMServiceError.exhausted(network: network, rangeSet: index, detail: "this node owns no block of pool \(index) yet")
            }
            sets.append(try RangeSet(ranges))
        }
        return sets
    }

    /// A claim reconciles the store with etcd too, so it counts as this boot's check.
    private func markBootVerified() throws {
        try store.write(lockTimeout: remainingBudget()) { try $0.setMeta(ClusterMetaKey.verifiedBoot, BootID.current ?? "unknown") }
    }

    /// Stamps each new lease with its block and epoch, and proves (inside the
    /// allocating transaction) that the block is still recorded as owned.
    private func recordLeaseBlocks(_ attachment: Attachment, in txn: LeaseTransaction) throws {
        let blocks = try txn.clusterBlocks()
        for lease in try txn.leases(containerID: attachment.containerID, ifname: attachment.ifname) {
            guard let block = blocks.first(where: { $0.cidr.contains(lease.address) }) else {
                throw ClusterAllocationError.notOwned(address: lease.address.description)
            }
            try txn.setLeaseBlock(address: lease.address, block: block.cidr, epoch: block.epoch)
        }
    }

    /// What is left of this run's `lockTimeoutMs` budget.
    private func remainingBudget() -> Duration {
        let left = ContinuousClock.now.duration(to: started.advanced(by: config.lockTimeout))
        return max(left, .zero)
    }

    /// Compares the blocks this store holds with etcd, registering this boot
    /// first; returns the registration revision and etcd's blocks.
    ///
    /// - A held block etcd gives to another node puts the network in conflict:
    ///   every ADD is refused until an operator resolves it.
    /// - A held block missing from etcd (retired, or reclaimed after a fence,
    ///   or lost in a restored snapshot) is claimed again at once; if another
    ///   node won it meanwhile, that is a conflict too.
    /// - Blocks etcd says this node owns but the store lacks (a wiped store)
    ///   are recorded back, so they are used again rather than forgotten.
    private func reconcileBlocks(_ claimer: BlockClaimer, cluster: ClusterConfig) throws
        -> (registration: Int64, inEtcd: [IPNetwork: (record: BlockRecord?, epoch: Int64)]) {
        let registration = try claimer.register()
        // The store first, etcd second: a block is recorded only after its claim
        // landed, so every block read here is in the etcd read that follows unless
        // it really left us. The other order let a concurrent ADD of this node
        // claim and record a block between the two reads, which looked like a
        // block missing from etcd and then like a conflict.
        let local = try store.read { try $0.clusterBlocks() }
        var inEtcd = try claimer.allBlocks()
        let now = self.now()
        for block in local {
            if let entry = inEtcd[block.cidr] {
                guard let owner = entry.record?.owner, owner != cluster.nodeName else { continue }
                try enterConflict("block \(block.cidr), held in this node's store, is owned by node \"\(owner)\" in etcd")
            }
            guard let again = try claimer.claim(block: block.cidr, registration: registration)
                    ?? (try claimer.allBlocks()[block.cidr]).flatMap({ entry in
                        // Lost the create to a concurrent ADD of this same node: still ours.
                        entry.record?.owner == cluster.nodeName ? ClaimedBlock(cidr: block.cidr, epoch: entry.epoch) : nil
                    }) else {
                try enterConflict("block \(block.cidr), held in this node's store, was released in etcd and taken by another node")
            }
            try store.write(lockTimeout: remainingBudget()) {
                try $0.recordClusterBlock(StoredBlock(cidr: again.cidr, pool: block.pool, epoch: again.epoch, claimedAt: now))
            }
            inEtcd[again.cidr] = (BlockRecord(owner: cluster.nodeName, bootID: claimer.bootID, claimedAt: 0), again.epoch)
        }
        for (cidr, entry) in inEtcd where entry.record?.owner == cluster.nodeName && !local.contains(where: { $0.cidr == cidr }) {
            guard let index = cluster.pools.firstIndex(where: { $0.blockIndex(ofBlock: cidr) != nil }) else { continue }
            try store.write(lockTimeout: remainingBudget()) {
                try $0.recordClusterBlock(StoredBlock(cidr: cidr, pool: index, epoch: entry.epoch, claimedAt: now))
            }
        }
        return (registration, inEtcd)
    }

    private func enterConflict(_ what: String) throws -> Never {
        let detail = what + "; no address is allocated on this network until an operator resolves it (ipamctl cluster status)"
        try store.write(lockTimeout: remainingBudget()) { try $0.setMeta(ClusterMetaKey.conflict, detail) }
        throw ClusterAllocationError.conflict(network: network, detail: detail)
    }

    private func claimer(for cluster: ClusterConfig) throws -> BlockClaimer {
        let budget = remainingBudget()
        guard budget > .zero else {
            throw ClusterAllocationError.etcdUnavailable(network: network, detail: "no time left in lockTimeoutMs to reach etcd")
        }
        return BlockClaimer(cluster: cluster, network: network, bootID: BootID.current ?? "unknown", timeout: budget)
    }

    /// The once-per-boot check: a node that rebooted may have been retired or
    /// fenced (and its blocks reclaimed) while it was down, so the first ADD of
    /// a boot registers the new boot and reconciles its blocks with etcd before
    /// it allocates. Later ADDs of the same boot send no etcd request.
    func verifyBoot(cluster: ClusterConfig) throws {
        do {
            _ = try reconcileBlocks(try claimer(for: cluster), cluster: cluster)
            try store.write(lockTimeout: remainingBudget()) { try $0.setMeta(ClusterMetaKey.verifiedBoot, BootID.current ?? "unknown") }
        } catch let error as ClaimError {
            throw ClusterAllocationError.etcdUnavailable(network: network, detail: "checking this boot's blocks: \(error)")
        }
    }

    /// Claims a block of pool `pool` in etcd and records it in the store,
    /// after reconciling the blocks the store holds (`reconcileBlocks`).
    func claimBlock(pool: Int, cluster: ClusterConfig) throws {
        do {
            let claimer = try claimer(for: cluster)
            let local = Set(try store.read { try $0.clusterBlocks() }.filter { $0.pool == pool }.map(\.cidr))
            let (registration, inEtcd) = try reconcileBlocks(claimer, cluster: cluster)
            let ownedNow = inEtcd.filter { $0.value.record?.owner == cluster.nodeName && cluster.pools[pool].blockIndex(ofBlock: $0.key) != nil }
            // Reconciling recorded a block of this pool back: allocate from it first.
            if ownedNow.keys.contains(where: { !local.contains($0) }) { return }
            let claimed = try claimer.claim(from: cluster.pools[pool], registration: registration, within: remainingBudget())
            // Recorded (and fsync'd) before any address from it is handed out.
            let now = self.now()
            try store.write(lockTimeout: remainingBudget()) {
                try $0.recordClusterBlock(StoredBlock(cidr: claimed.cidr, pool: pool, epoch: claimed.epoch, claimedAt: now))
            }
        } catch let error as ClaimError {
            switch error {
            case .poolExhausted(let p):
                throw IPAMServiceError.exhausted(network: network, rangeSet: pool, detail: "every block of pool \(p) is owned")
            default:
                throw ClusterAllocationError.etcdUnavailable(network: network, detail: error.description)
            }
        }
    }
}

/// Meta keys cluster mode keeps in the store.
public enum ClusterMetaKey {
    /// Set when etcd gives a block this node holds to another node.
    public static let conflict = MetaKey.clusterConflict
    /// The boot id whose blocks were last checked against etcd (`verifyBoot`).
    public static let verifiedBoot = MetaKey.clusterVerifiedBoot
}

/// Thrown inside the allocation transaction when this boot's blocks have not
/// been checked against etcd yet; `allocate` checks them and retries.
struct BootNotVerified: Error {}

/// Why cluster mode could not allocate; mapped to CNI codes by the adapter.
public enum ClusterAllocationError: Error, CustomStringConvertible, Sendable {
    /// etcd could not be reached (or a claim could not be settled) within the
    /// budget: nothing was claimed or allocated. CNI 11, try again later.
    case etcdUnavailable(network: String, detail: String)
    /// A block this node holds is owned by another node in etcd: every ADD on
    /// the network is refused.
    case conflict(network: String, detail: String)
    /// A chosen address was not in a block recorded as owned (a block went
    /// between choosing and committing); nothing was committed.
    case notOwned(address: String)

    public var description: String {
        switch self {
        case .etcdUnavailable(let n, let d): "network \"\(n)\": cannot claim an address block from etcd: \(d)"
        case .conflict(let n, let d): "network \"\(n)\" is in block conflict: \(d)"
        case .notOwned(let a): "address \(a) is not in a block this node owns"
        }
    }
}
