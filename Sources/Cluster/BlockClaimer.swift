#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import Etcd

/// A block this node owns in etcd, with its ownership epoch (the block key's
/// create revision: it changes whenever the block is released and claimed
/// again, so a lease stamped with it can tell which ownership it came from).
public struct ClaimedBlock: Sendable, Hashable {
    public var cidr: IPNetwork
    public var epoch: Int64
    public init(cidr: IPNetwork, epoch: Int64) {
        self.cidr = cidr
        self.epoch = epoch
    }
}

/// Why a claim did not produce a block. Every case leaves the caller owning
/// nothing new, so it must not allocate from any block it did not get.
public enum ClaimError: Error, Sendable, Hashable, CustomStringConvertible {
    /// etcd could not be reached or refused; nothing was claimed.
    case etcd(EtcdError)
    /// A claim may have landed and reading it back failed too; the caller must
    /// treat the block as not its own (at worst it leaks until seen again).
    case unsettled(String)
    /// This node's registration changed under it (retired, or another boot of
    /// the same name registered): it may not claim with its stale view.
    case registrationChanged(String)
    /// Every block of the pool has an owner.
    case poolExhausted(IPNetwork)
    /// The budget ran out between attempts (others kept winning the race).
    case deadline

    public var description: String {
        switch self {
        case .etcd(let e): "\(e)"
        case .unsettled(let m): "block claim outcome unknown and not settled: \(m)"
        case .registrationChanged(let m): "node registration changed: \(m)"
        case .poolExhausted(let p): "every block of pool \(p) is owned"
        case .deadline: "no block could be claimed within the deadline"
        }
    }
}

/// The claim protocol on etcd, for one node of one cluster network.
///
/// - A node first registers: its node key records its boot id. Each claim is
///   one txn, create-if-absent on the block key, conditioned on the node key's
///   mod revision being the one it registered, so a retired (or superseded)
///   node can never claim.
/// - Nothing is released here by time: there are no leases or TTLs.
/// - A claim whose outcome is unknown is settled by reading the block key
///   back. If the key is absent the claim is treated as failed; should the
///   write still land later, the block shows as this node's in etcd but is
///   never used until seen, which wastes a block but can never duplicate an
///   address.
public struct BlockClaimer {
    public let client: EtcdClient
    public let keys: ClusterKeys
    public let node: String
    public let bootID: String
    public let address: String?

    public init(client: EtcdClient, keys: ClusterKeys, node: String, bootID: String, address: String?) {
        self.client = client
        self.keys = keys
        self.node = node
        self.bootID = bootID
        self.address = address
    }

    /// The claimer of this node (`cluster.nodeName`) on `network`, with the
    /// etcd deadline cut to `timeout` when the caller's budget is shorter.
    public init(cluster: ClusterConfig, network: String, bootID: String, timeout: Duration? = nil) {
        var etcd = cluster.etcd
        if let timeout { etcd.timeout = min(etcd.timeout, timeout) }
        self.init(client: EtcdClient(config: etcd), keys: ClusterKeys(prefix: cluster.prefix, network: network),
                  node: cluster.nodeName, bootID: bootID, address: cluster.nodeAddress?.description)
    }

    private static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// Makes sure the node key names this boot; returns its mod revision, which
    /// every claim is conditioned on.
    public func register() throws(ClaimError) -> Int64 {
        let key = keys.node(node)
        let record = NodeRecord(node: node, bootID: bootID, address: address, registeredAt: Self.now()).etcdJSON()
        for _ in 0..<3 {
            let current: EtcdKeyValue?
            do { current = try client.get(key) } catch { throw .etcd(error) }
            if let current, let existing = NodeRecord.fromEtcd(current.value), existing.bootID == bootID,
               existing.address == address {
                return current.modRevision
            }
            // New, or a new boot of this node: (re)register with a compare on what was read.
            let guardOn: EtcdCompare = current.map { EtcdCompare(key: key, .modRevision($0.modRevision)) } ?? .absent(key)
            let result: EtcdTxnResult
            do {
                result = try client.txn(EtcdTxn(compare: [guardOn], success: [.put(key: key, value: record)]))
            } catch .outcomeUnknown {
                continue   // read it back on the next round
            } catch {
                throw .etcd(error)
            }
            if result.succeeded { return result.revision }
        }
        throw .unsettled("registration of \(node) did not settle")
    }

    /// Every block of this network in etcd, by CIDR, with its record and epoch.
    public func allBlocks() throws(ClaimError) -> [IPNetwork: (record: BlockRecord?, epoch: Int64)] {
        let r: EtcdRangeResult
        do { r = try client.range(keys.blocks, prefix: true) } catch { throw .etcd(error) }
        var out: [IPNetwork: (record: BlockRecord?, epoch: Int64)] = [:]
        for kv in r.kvs {
            if let cidr = keys.blockCIDR(fromKey: kv.key) { out[cidr] = (BlockRecord.fromEtcd(kv.value), kv.createRevision) }
        }
        return out
    }

    /// The blocks etcd says this node (this name, any boot) owns.
    public func ownedBlocks() throws(ClaimError) -> [ClaimedBlock] {
        try allBlocks().compactMap { cidr, entry in
            entry.record?.owner == node ? ClaimedBlock(cidr: cidr, epoch: entry.epoch) : nil
        }.sorted { $0.cidr.address < $1.cidr.address }
    }

    /// Claims the first free block of `pool`, scanning from a place derived
    /// from the node name so concurrent nodes rarely race for one block.
    public func claim(from pool: ClusterPool, registration: Int64, within budget: Duration) throws(ClaimError) -> ClaimedBlock {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: budget)
        var taken = Set<Int>()
        for (cidr, _) in try allBlocks() { if let i = pool.blockIndex(ofBlock: cidr) { taken.insert(i) } }
        let start = Self.startIndex(node: node, blocks: pool.blockCount)
        var reclaimed = false
        while clock.now < deadline {
            if pool.firstFree(excluding: taken, from: start) == nil, !reclaimed {
                // Only a full pool looks at fences: a fenced node's blocks are the last resort.
                reclaimed = true
                for cidr in try reclaimFenced(in: pool) { if let i = pool.blockIndex(ofBlock: cidr) { taken.remove(i) } }
            }
            guard let index = pool.firstFree(excluding: taken, from: start), let cidr = pool.block(index) else {
                throw .poolExhausted(pool.cidr)
            }
            if let claimed = try claim(block: cidr, registration: registration) { return claimed }
            taken.insert(index)
        }
        throw .deadline
    }

    /// Claims one given block if it is free (create-if-absent, conditioned on
    /// the registration). Returns nil when another node has it.
    public func claim(block cidr: IPNetwork, registration: Int64) throws(ClaimError) -> ClaimedBlock? {
        let key = keys.block(cidr)
        let value = BlockRecord(owner: node, bootID: bootID, claimedAt: Self.now()).etcdJSON()
        let txn = EtcdTxn(compare: [.absent(key), EtcdCompare(key: keys.node(node), .modRevision(registration))],
                          success: [.put(key: key, value: value)], failure: [.range(key: keys.node(node))])
        let result: EtcdTxnResult
        do {
            result = try client.txn(txn)
        } catch .outcomeUnknown(let why) {
            return try settle(key: key, cidr: cidr, why: why)
        } catch {
            throw .etcd(error)
        }
        if result.succeeded { return ClaimedBlock(cidr: cidr, epoch: result.revision) }
        if case .range(let nodeKVs)? = result.responses.first, nodeKVs.first?.modRevision != registration {
            throw .registrationChanged("\(keys.node(node)) changed since registration at revision \(registration)")
        }
        return nil
    }

    /// Reads a block key back after a claim whose outcome is unknown.
    private func settle(key: String, cidr: IPNetwork, why: String) throws(ClaimError) -> ClaimedBlock? {
        let kv: EtcdKeyValue?
        do { kv = try client.get(key) } catch { throw .unsettled("\(why); reading \(key) back: \(error)") }
        guard let kv, let record = BlockRecord.fromEtcd(kv.value) else { return nil }
        return record.owner == node && record.bootID == bootID ? ClaimedBlock(cidr: cidr, epoch: kv.createRevision) : nil
    }

    /// Releases a block this node owns, only if it is still the same ownership
    /// (same epoch, same owner). Returns false if etcd had it otherwise.
    public func release(_ block: ClaimedBlock) throws(ClaimError) -> Bool {
        let key = keys.block(block.cidr)
        do {
            let r = try client.txn(EtcdTxn(compare: [EtcdCompare(key: key, .createRevision(block.epoch))],
                                           success: [.delete(key: key)], failure: [.range(key: key)]))
            return r.succeeded
        } catch { throw .etcd(error) }
    }

    /// FNV-1a of the node name, so each node starts its scan somewhere else.
    static func startIndex(node: String, blocks: Int) -> Int {
        var h: UInt64 = 0xcbf29ce484222325
        for b in node.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return Int(h % UInt64(max(blocks, 1)))
    }
}
