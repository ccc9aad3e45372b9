#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Glibc
import Cluster
import Etcd
import LeaseService
import LeaseStore

extension Ipamctl.ClusterCommand {
    /// Takes a dead node's blocks back into the pool: the only way, besides
    /// the owner's own release and a proven fence, that a block leaves a node.
    ///
    /// Retire only a node that is down for good: a retired node that is still
    /// running keeps serving addresses from the blocks it holds locally until
    /// it next talks to etcd (then it sees the conflict and refuses ADDs).
    struct Retire: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a dead node's blocks and registration (dry run unless --apply; over the limit also --force).")
        @OptionGroup var options: ClusterOptions
        @Argument(help: "The node to retire.") var node: String
        @Flag(help: "Act. Without it the command only prints what it would do.") var apply = false
        @Flag(help: "Allow retiring above the blast-radius limit, or this node itself (needs --apply).") var force = false
        @Option(help: "Most blocks one retire may release without --force.") var maxBlocks: Int = 16
        @Option(help: "Most blocks one retire may release without --force, as a fraction of all claimed blocks (0, 1].")
        var maxBlockFraction: Double = 0.5

        func validate() throws {
            if force && !apply { throw ValidationError("--force only makes sense with --apply") }
            guard maxBlocks >= 1 else { throw ValidationError("--max-blocks must be at least 1") }
            guard maxBlockFraction > 0 && maxBlockFraction <= 1 else { throw ValidationError("--max-block-fraction must be in (0, 1]") }
            guard ClusterConfig.validNodeName(node) else { throw ValidationError("invalid node name \"\(node)\"") }
        }

        struct Record: Codable {
            var key: String
            var value: String
            var createRevision: Int64
            var modRevision: Int64
        }

        struct Plan: Encodable {
            var network: String
            var node: String
            var blocks: [String]
            var registration: Bool
            var fences: Int
            var totalBlocks: Int
            var limit: Int
            var applied: Bool
            var backup: String?
        }

        func run() throws {
            let context = try ClusterContext(options)
            let keys = context.keys
            let client = EtcdClient(config: context.cluster.etcd)
            // What goes: the node's blocks, its registration and its fences, read at one revision each.
            let blocks = try client.range(keys.blocks, prefix: true).kvs
            let mine = blocks.filter { BlockRecord.fromEtcdValue($0.value)?.owner == node }
            let registration = try client.get(keys.node(node))
            let fences = try client.range(keys.fences(of: node), prefix: true).kvs
            let records = (mine + [registration].compactMap { $0 } + fences).map {
                Record(key: $0.key, value: $0.value, createRevision: $0.createRevision, modRevision: $0.modRevision)
            }
            let limit = max(1, min(maxBlocks, Int((Double(blocks.count) * maxBlockFraction).rounded(.down))))
            var plan = Plan(network: context.network, node: node, blocks: mine.compactMap { keys.blockCIDR(fromKey: $0.key)?.description },
                            registration: registration != nil, fences: fences.count, totalBlocks: blocks.count,
                            limit: limit, applied: false, backup: nil)
            guard !records.isEmpty else {
                throw ValidationError("node \"\(node)\" has no blocks, registration or fence in network \"\(context.network)\"")
            }
            guard apply else {
                try report(plan, dryRun: true)
                return
            }
            if !force {
                if node == context.cluster.nodeName {
                    throw ClusterCommandError("refusing to retire this node (\(node)) itself; add --force if it really is gone")
                }
                if mine.count > limit {
                    throw ClusterCommandError("retiring \(node) would release \(mine.count) of \(blocks.count) block(s), over the limit of \(limit) "
                                          + "(--max-blocks \(maxBlocks), --max-block-fraction \(maxBlockFraction)); add --force")
                }
            }
            // 1. Backup of every record that goes, before anything changes.
            let backup = try writeBackup(records, context: context)
            plan.backup = backup
            // 2. One transaction per chunk, each guarded on every key being as read,
            //    so a block that moved since is never deleted from its new owner.
            var outcome = "applied"
            for chunk in stride(from: 0, to: records.count, by: 60).map({ Array(records[$0..<min($0 + 60, records.count)]) }) {
                let txn = EtcdTxn(compare: chunk.map { EtcdCompare(key: $0.key, .modRevision($0.modRevision)) },
                                  success: chunk.map { .delete(key: $0.key) })
                let result: Result<EtcdTxnResult, EtcdError> = Result { () throws(EtcdError) in try client.txn(txn) }
                switch result {
                case .success(let r) where r.succeeded:
                    continue
                case .success:
                    outcome = "stopped: a record changed since it was read; nothing of this chunk was deleted, re-run"
                case .failure(let error):
                    outcome = error.isDefinite ? "failed (\(error)); nothing of this chunk was deleted"
                        : "outcome unknown (\(error)); re-run the dry run to see what is left"
                }
                break
            }
            plan.applied = outcome == "applied"
            // 3. Audit in this node's store.
            let location = try StoreLocation(dataDir: context.dataDir, network: context.network)
            let store = try LeaseStore.open(location)
            try store.write(lockTimeout: .seconds(10)) { txn in
                try txn.appendAudit(actor: AuditActor.current(process: "ipamctl").description, action: "cluster-retire",
                                    detail: "retire \(node): \(plan.blocks.count) block(s) \(plan.blocks.joined(separator: ", ")), "
                                        + "registration \(plan.registration), \(plan.fences) fence(s); \(outcome); backup \(backup)"
                                        + (force ? "; forced" : ""),
                                    at: Date())
            }
            try report(plan, dryRun: false)
            if !plan.applied { throw ClusterCommandError("retire \(node): \(outcome)") }
        }

        private func writeBackup(_ records: [Record], context: ClusterContext) throws -> String {
            let dir = "\(context.dataDir)/\(context.network)/cluster-backups"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let stamp = Int64(Date().timeIntervalSince1970 * 1000)
            let path = "\(dir)/retire-\(node)-\(stamp).json"
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(records)
            guard FileManager.default.createFile(atPath: path, contents: data) else {
                throw ValidationError("cannot write backup \(path)")
            }
            let fd = open(path, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
            return path
        }

        private func report(_ plan: Plan, dryRun: Bool) throws {
            if options.json { try Output.printJSON(plan); return }
            let head = dryRun ? "DRY RUN (nothing changed): retiring" : (plan.applied ? "RETIRED" : "PARTLY RETIRED")
            print("\(head) node \"\(plan.node)\" in network \"\(plan.network)\": \(plan.blocks.count) of \(plan.totalBlocks) block(s)"
                  + " (limit \(plan.limit) without --force), registration \(plan.registration ? "yes" : "no"), \(plan.fences) fence(s)")
            for b in plan.blocks { print("  block \(b)") }
            if let backup = plan.backup { print("backup: \(backup)") }
            if dryRun { print("re-run with --apply to release them") }
        }
    }
}

/// A refused or failed cluster command (exit 1, no usage text).
struct ClusterCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
