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
    /// bridge's ports in the kernel show no live address in it. Each pool
    /// keeps at least one block. Still under the lock (so no ADD or claim of
    /// this node runs meanwhile), the block is deleted in etcd, guarded on its
    /// epoch, and only then leaves the local store, committed with the same
    /// transaction. A failed or unknown etcd step keeps the block locally: if
    /// the delete did land, the next claim finds the block missing in etcd and
    /// claims it again (or refuses ADDs if another node won it). A failure can
    /// only keep a block, never duplicate one.
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
            var released: [String] = [], failed: [String] = []
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
                var empty: [StoredBlock] = [], kept: [StoredBlock] = []
                let blocks = try txn.clusterBlocks()
                for pool in 0..<pools {
                    let mine = blocks.filter { $0.pool == pool }
                    var unused = mine.filter { b in
                        !leases.contains { b.cidr.contains($0.address) } && !live.contains { b.cidr.contains($0) }
                    }
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
                            failed.append("\(b.cidr): etcd has it at another epoch; kept")
                        }
                    } catch {
                        failed.append("\(b.cidr): \(error); kept")
                    }
                }
                return (empty, kept)
            }
            let plan = Plan(network: context.network, empty: empty.map(\.cidr.description), kept: kept.map(\.cidr.description),
                            released: released, failed: failed, applied: apply)
            if options.json { try Output.printJSON(plan) } else {
                print("\(apply ? "" : "DRY RUN (nothing changed): ")empty blocks of network \"\(plan.network)\": "
                      + (plan.empty.isEmpty ? "none" : plan.empty.joined(separator: ", ")))
                for r in plan.released { print("released \(r)") }
                for f in plan.failed { print("FAILED \(f)") }
            }
            if !plan.failed.isEmpty { throw ExitCode(1) }
        }
    }
}
