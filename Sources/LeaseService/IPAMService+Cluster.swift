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

    /// Claims a block of pool `pool` in etcd and records it in the store.
    ///
    /// First it settles what etcd says about the blocks this store holds: a
    /// block etcd gives to another node puts the network in conflict (every
    /// ADD refused until an operator resolves it); blocks etcd says this node
    /// owns but the store lacks (a wiped store) are recorded back, so they are
    /// used again rather than forgotten. Only then is a new block claimed.
    func claimBlock(pool: Int, cluster: ClusterConfig) throws {
        let budget = remainingBudget()
        guard budget > .zero else {
            throw ClusterAllocationError.etcdUnavailable(network: network, detail: "no time left in lockTimeoutMs to claim a block")
        }
        var etcd = cluster.etcd
        etcd.timeout = min(etcd.timeout, budget)
        let claimer = BlockClaimer(client: EtcdClient(config: etcd), keys: ClusterKeys(prefix: cluster.prefix, network: network),
                                   node: cluster.nodeName, bootID: BootID.current ?? "unknown",
                                   address: cluster.nodeAddress?.description)
        do {
            let registration = try claimer.register()
            let inEtcd = try claimer.allBlocks()
            let local = try store.read { try $0.clusterBlocks() }
            for block in local {
                if let owner = inEtcd[block.cidr]?.record?.owner, owner != cluster.nodeName {
                    let detail = "block \(block.cidr), held in this node's store, is owned by node \"\(owner)\" in etcd; "
                        + "no address is allocated on this network until an operator resolves it (ipamctl cluster status)"
                    try store.write(lockTimeout: remainingBudget()) { try $0.setMeta(ClusterMetaKey.conflict, detail) }
                    throw ClusterAllocationError.conflict(network: network, detail: detail)
                }
            }
            let now = self.now()
            var recovered = false
            for (cidr, entry) in inEtcd where entry.record?.owner == cluster.nodeName && !local.contains(where: { $0.cidr == cidr }) {
                guard let index = cluster.pools.firstIndex(where: { $0.blockIndex(ofBlock: cidr) != nil }) else { continue }
                try store.write(lockTimeout: remainingBudget()) {
                    try $0.recordClusterBlock(StoredBlock(cidr: cidr, pool: index, epoch: entry.epoch, claimedAt: now))
                }
                recovered = recovered || index == pool
            }
            if recovered { return }
            let claimed = try claimer.claim(from: cluster.pools[pool], registration: registration, within: remainingBudget())
            // Recorded (and fsync'd) before any address from it is handed out.
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
    public static let conflict = "cluster_conflict"
}

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
