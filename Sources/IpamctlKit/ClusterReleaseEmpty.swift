#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Cluster
import IPAM
import KernelInventory
import LeaseService
import LeaseStore
import Netlink

extension Ipamctl.ClusterCommand {
    /// The owner's release of its empty blocks: the third way a block leaves a
    /// node, and the only one the node decides alone.
    ///
    /// A block is empty only on two pieces of evidence read under the
    /// network's lock: the store holds no lease in it (any state), and the
    /// bridge's ports in the kernel show no live address in it. A block with
    /// an address still in quarantine is not empty either: its next owner
    /// knows nothing of this node's quarantine and could hand the address out
    /// at once, so the block stays until the quarantine (the longer of the
    /// config's and the one the plugin last stored) is over. Each pool
    /// keeps at least one block. Still under the lock (so no ADD or claim of
    /// this node runs meanwhile), the block is deleted in etcd, guarded on its
    /// epoch, and only then leaves the local store, committed with the same
    /// transaction. A definite etcd failure (unreachable, refused) keeps the
    /// block locally. A delete whose outcome is unknown, or a block etcd no
    /// longer has at this epoch, leaves the local store anyway: the block is
    /// proven empty, so dropping it costs nothing, while keeping it would let
    /// this node serve addresses from a block another node may claim. If etcd
    /// still lists it as this node's, the next claim records it back.
    struct ReleaseEmpty: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "release-empty", abstract: "Give this node's empty blocks back to the pool (dry run unless --apply).")
        @OptionGroup var options: ClusterOptions
        @Option(help: "The bridge whose ports are the kernel evidence (default: the one the plugin recorded).") var bridge: String?
        @Flag(help: "Act. Without it the command only prints what it would do.") var apply = false

        struct Plan: Encodable {
            var network: String
            var empty: [String]
            var kept: [String]
            /// Blocks kept only because an address in them is still in quarantine.
            var quarantined: [String]
            var released: [String]
            var failed: [String]
            var applied: Bool
        }

        func run() throws {
            let context = try ClusterContext(options)
            let store = try StoreCatalog(dataDir: context.dataDir).openWritable(context.network)
            let inventory = KernelInventory(netlink: try NetlinkSocket())
            let pools = context.cluster.pools.count
            let claimer = context.claimer()
            var released: [String] = [], failed: [String] = [], quarantined: [String] = []
            let (empty, kept): ([StoredBlock], [StoredBlock]) = try store.write(lockTimeout: .seconds(10)) { txn in
                guard let bridgeName = try bridge ?? txn.meta(.bridge) else {
                    throw ClusterCommandError("network \"\(context.network)\" has no recorded bridge, so there is no kernel evidence; pass --bridge")
                }
                let leases = try txn.leases()
                let seen = inventory.collect(bridge: bridgeName, leaseNetnsPaths: leases.compactMap(\.netns))
                guard case .complete = seen.status else {
                    throw ClusterCommandError("kernel inventory of \(bridgeName) is incomplete (\(seen.status)); nothing released")
                }
                let live = seen.observed.map(\.address)
                let quarantine = max(context.ipam.quarantine, try PoolRecord.quarantine(in: txn))
                let resting = try txn.quarantinedAddresses(now: Date(), quarantine: quarantine)
                var empty: [StoredBlock] = [], kept: [StoredBlock] = []
                let blocks = try txn.clusterBlocks()
                for pool in 0..<pools {
                    let mine = blocks.filter { $0.pool == pool }
                    var unused = mine.filter { b in
                        !leases.contains { b.cidr.contains($0.address) } && !live.contains { b.cidr.contains($0) }
                    }
                    let waiting = unused.filter { b in resting.contains { b.cidr.contains($0) } }
                    quarantined += waiting.map(\.cidr.description)
                    unused.removeAll { waiting.contains($0) }
                    // A node always keeps one block per pool.
                    if unused.count == mine.count, !unused.isEmpty { unused.removeFirst() }
                    empty += unused
                    kept += mine.filter { b in !unused.contains(b) }
                }
                guard apply else { return (empty, kept) }
                for b in empty {
                    do {
                        if try claimer.release(ClaimedBlock(cidr: b.cidr, epoch: b.epoch)) {
                            try txn.removeClusterBlock(b.cidr)
                            released.append(b.cidr.description)
                        } else {
                            // Not this ownership any more: another node may hold it now, so stop using it.
                            try txn.removeClusterBlock(b.cidr)
                            failed.append("\(b.cidr): etcd no longer has it at epoch \(b.epoch); dropped from this node's store, etcd left as is")
                        }
                    } catch ClaimError.etcd(let error) where !error.isDefinite {
                        // The delete may have landed: keeping the block would serve addresses another node can claim.
                        try txn.removeClusterBlock(b.cidr)
                        failed.append("\(b.cidr): \(error); the delete may have landed, so it left this node's store too")
                    } catch {
                        failed.append("\(b.cidr): \(error); kept")
                    }
                }
                return (empty, kept)
            }
            let plan = Plan(network: context.network, empty: empty.map(\.cidr.description), kept: kept.map(\.cidr.description),
                            quarantined: quarantined, released: released, failed: failed, applied: apply)
            if options.json { try Output.printJSON(plan) } else {
                print("\(apply ? "" : "DRY RUN (nothing changed): ")empty blocks of network \"\(plan.network)\": "
                      + (plan.empty.isEmpty ? "none" : plan.empty.joined(separator: ", ")))
                for q in plan.quarantined { print("kept \(q): an address in it is still in quarantine (quarantineSeconds)") }
                for r in plan.released { print("released \(r)") }
                for f in plan.failed { print("FAILED \(f)") }
            }
            if !plan.failed.isEmpty { throw ExitCode(1) }
        }
    }
}
