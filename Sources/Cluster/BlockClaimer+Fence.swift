#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import Etcd

extension BlockClaimer {
    /// How long after a fence its node's blocks may be reclaimed: twice the
    /// termination action's timeout, measured on the reclaimer's clock from the
    /// fence's `fencedAt`. The watchdog retries the action after one timeout,
    /// so by then the host has been told to go down at least twice; the second
    /// timeout absorbs clock skew between nodes of up to one action timeout.
    public static func reclaimAfter(actionTimeoutSeconds: Int64) -> Int64 { 2 * max(actionTimeoutSeconds, 1) }

    /// Publishes a fence for this node's current boot, before the watchdog
    /// runs its termination action. Create-if-absent: an existing fence for
    /// the same boot stands (the first one's time is the conservative one).
    /// - Throws: `ClaimError.etcd` (or `.unsettled`) when it could not be
    ///   written; then no block of this node may ever be reclaimed on it.
    public func publishFence(actionTimeoutSeconds: Int64, reason: String) throws(ClaimError) {
        let key = keys.fence(node: node, bootID: bootID)
        let record = FenceRecord(node: node, bootID: bootID, fencedAt: Int64(Date().timeIntervalSince1970),
                                 actionTimeoutSeconds: actionTimeoutSeconds, reason: reason).etcdJSON()
        do {
            _ = try client.txn(EtcdTxn(compare: [.absent(key)], success: [.put(key: key, value: record)]))
        } catch .outcomeUnknown(let why) {
            do {
                if try client.get(key) == nil { throw ClaimError.unsettled("fence \(key): \(why); not found on read-back") }
            } catch let e as ClaimError { throw e } catch {
                throw .unsettled("fence \(key): \(why); read-back: \(error)")
            }
        } catch {
            throw .etcd(error)
        }
    }

    /// Frees the blocks of `pool` whose owner was fenced on the boot that owns
    /// them, has not registered since, and whose fence is older than
    /// `reclaimAfter`. Each block goes in one txn guarded on the block, the
    /// fence and the node key being exactly as read, so a block whose owner
    /// came back (new registration) or changed hands is never touched.
    /// Returns the freed blocks; they are claimed afterwards like any free block.
    public func reclaimFenced(in pool: ClusterPool, now: Int64 = Int64(Date().timeIntervalSince1970)) throws(ClaimError) -> [IPNetwork] {
        let blocks: EtcdRangeResult, fences: EtcdRangeResult, nodes: EtcdRangeResult
        do {
            blocks = try client.range(keys.blocks, prefix: true)
            fences = try client.range(keys.fences, prefix: true)
            nodes = try client.range(keys.nodes, prefix: true)
        } catch { throw .etcd(error) }
        var freed: [IPNetwork] = []
        for kv in blocks.kvs {
            guard let cidr = keys.blockCIDR(fromKey: kv.key), pool.blockIndex(ofBlock: cidr) != nil,
                  let owner = BlockRecord.fromEtcd(kv.value), owner.owner != node,
                  let fenceKV = fences.kvs.first(where: { $0.key == keys.fence(node: owner.owner, bootID: owner.bootID) }),
                  let fence = FenceRecord.fromEtcd(fenceKV.value),
                  now >= fence.fencedAt + Self.reclaimAfter(actionTimeoutSeconds: fence.actionTimeoutSeconds) else { continue }
            // "Not seen since": the owner's registration is still the fenced boot's, unchanged since the fence.
            let nodeKV = nodes.kvs.first { $0.key == keys.node(owner.owner) }
            if let nodeKV {
                guard NodeRecord.fromEtcd(nodeKV.value)?.bootID == owner.bootID, nodeKV.modRevision < fenceKV.createRevision else { continue }
            }
            let nodeGuard: EtcdCompare = nodeKV.map { EtcdCompare(key: $0.key, .modRevision($0.modRevision)) } ?? .absent(keys.node(owner.owner))
            let txn = EtcdTxn(compare: [EtcdCompare(key: kv.key, .modRevision(kv.modRevision)),
                                        EtcdCompare(key: fenceKV.key, .createRevision(fenceKV.createRevision)), nodeGuard],
                              success: [.delete(key: kv.key)])
            do {
                if try client.txn(txn).succeeded { freed.append(cidr) }
            } catch .outcomeUnknown {
                continue   // the claim that follows reads the key afresh either way
            } catch {
                throw .etcd(error)
            }
        }
        return freed
    }
}
