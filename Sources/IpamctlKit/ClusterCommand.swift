#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import ArgumentParser
import Cluster
import Etcd
import IPAM
import LeaseService
import LeaseStore

extension Ipamctl {
    /// `ipamctl cluster`: what etcd and this node's store say about a cluster network.
    struct ClusterCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cluster", abstract: "Inspect a cluster-mode network (blocks on etcd).",
            subcommands: [Status.self, Nodes.self, Blocks.self, Retire.self, SyncRoutes.self, ReleaseEmpty.self])
    }
}

/// Options every `ipamctl cluster` command takes.
struct ClusterOptions: ParsableArguments {
    @Option(name: .long, help: "The network config or conflist the runtime uses (etcd settings, network name, node name).")
    var config: String

    @Option(name: .long, help: "Overrides the config's ipam.dataDir.")
    var dataDir: String?

    @Flag(help: "Print JSON instead of a table.") var json = false
}

/// A cluster network as read from a config file: its name, ipam config and cluster settings.
struct ClusterContext {
    var network: String
    var ipam: IPAMConfig
    var cluster: ClusterConfig
    var dataDir: String

    init(_ options: ClusterOptions) throws {
        let network: String, ipamData: Data
        do { (network, ipamData, _) = try ClusterNetworkFile.load(path: options.config) } catch {
            throw ValidationError("\(error)")
        }
        let ipam = try IPAMConfig(ipamJSON: ipamData)
        guard let cluster = ipam.cluster else { throw ValidationError("\(options.config): ipam has no cluster") }
        self.network = network
        self.ipam = ipam
        self.cluster = cluster
        dataDir = options.dataDir ?? ipam.dataDir
    }

    var keys: ClusterKeys { ClusterKeys(prefix: cluster.prefix, network: network) }

    func claimer() -> BlockClaimer {
        BlockClaimer(cluster: cluster, network: network, bootID: BootID.current ?? "unknown")
    }

    /// This node's store: (blocks, leases, conflict); empty when it has none yet.
    func local() throws -> (blocks: [StoredBlock], leases: [Lease], conflict: String?) {
        let location = try StoreLocation(dataDir: dataDir, network: network)
        guard FileManager.default.fileExists(atPath: location.databasePath) else { return ([], [], nil) }
        return try LeaseStore.openReadOnly(location).read {
            (try $0.clusterBlocks(), try $0.leases(), try $0.meta(ClusterMetaKey.conflict))
        }
    }
}

/// A block as `ipamctl cluster blocks` shows it.
struct ClusterBlockView: Encodable {
    var block: String
    var owner: String?
    var bootID: String?
    var epoch: Int64
    /// Only for this node's blocks: leases in it (from the local store) and free addresses.
    var used: Int?
    var free: UInt64?
    /// Whether this node's store holds it.
    var heldLocally: Bool
}

/// A node as `ipamctl cluster nodes` shows it.
struct ClusterNodeView: Encodable {
    var node: String
    var bootID: String?
    var address: String?
    var registered: Bool
    var blocks: [String]
    var used: Int?
    var free: UInt64?
    var fences: [FenceRecord]
}

extension ClusterContext {
    func blockViews() throws -> [ClusterBlockView] {
        let inEtcd = try claimer().allBlocks()
        let (localBlocks, leases, _) = try local()
        let held = Set(localBlocks.map { $0.cidr })
        var views: [ClusterBlockView] = []
        for cidr in Set(inEtcd.keys).union(held).sorted(by: { $0.address < $1.address }) {
            let entry = inEtcd[cidr]
            let mine = entry?.record?.owner == cluster.nodeName
            let used = leases.filter { cidr.contains($0.address) }.count
            let capacity = (try? IPRange(subnet: cidr).capacity) ?? 0
            views.append(ClusterBlockView(block: cidr.description, owner: entry?.record?.owner, bootID: entry?.record?.bootID,
                                          epoch: entry?.epoch ?? localBlocks.first { $0.cidr == cidr }?.epoch ?? 0,
                                          used: mine || held.contains(cidr) ? used : nil,
                                          free: mine || held.contains(cidr) ? capacity - UInt64(min(UInt64(used), capacity)) : nil,
                                          heldLocally: held.contains(cidr)))
        }
        return views
    }

    func nodeViews() throws -> [ClusterNodeView] {
        let client = EtcdClient(config: cluster.etcd)
        let nodes = try client.range(keys.nodes, prefix: true).kvs
        let fences = try client.range(keys.fences, prefix: true).kvs.compactMap { FenceRecord.fromEtcdValue($0.value) }
        let blocks = try blockViews()
        var names = Set(nodes.map { String($0.key.dropFirst(keys.nodes.count)) })
        names.formUnion(blocks.compactMap(\.owner))
        return names.sorted().map { name in
            let record = nodes.first { $0.key == keys.node(name) }.flatMap { NodeRecord.fromEtcdValue($0.value) }
            let mine = blocks.filter { $0.owner == name }
            return ClusterNodeView(node: name, bootID: record?.bootID, address: record?.address, registered: record != nil,
                                   blocks: mine.map(\.block),
                                   used: name == cluster.nodeName ? mine.compactMap(\.used).reduce(0, +) : nil,
                                   free: name == cluster.nodeName ? mine.compactMap(\.free).reduce(0, +) : nil,
                                   fences: fences.filter { $0.node == name })
        }
    }
}

extension Ipamctl.ClusterCommand {
    struct Blocks: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every block of the network in etcd, with owner and epoch.")
        @OptionGroup var options: ClusterOptions

        func run() throws {
            let rows = try ClusterContext(options).blockViews()
            if options.json { try Output.printJSON(rows) } else {
                Output.printTable(header: ["BLOCK", "OWNER", "EPOCH", "USED", "FREE", "LOCAL"], rows: rows.map {
                    [$0.block, $0.owner ?? "(none)", String($0.epoch), $0.used.map(String.init) ?? "-",
                     $0.free.map(String.init) ?? "-", $0.heldLocally ? "yes" : "no"]
                })
            }
        }
    }

    struct Nodes: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every node of the network: registration, blocks, fences.")
        @OptionGroup var options: ClusterOptions

        func run() throws {
            let rows = try ClusterContext(options).nodeViews()
            if options.json { try Output.printJSON(rows) } else {
                Output.printTable(header: ["NODE", "BOOT-ID", "ADDRESS", "BLOCKS", "USED", "FREE", "FENCED"], rows: rows.map {
                    [$0.node, $0.bootID ?? "(unregistered)", $0.address ?? "-", String($0.blocks.count),
                     $0.used.map(String.init) ?? "-", $0.free.map(String.init) ?? "-", $0.fences.isEmpty ? "no" : "yes"]
                })
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "This node: registration, blocks, conflicts, fence.")
        @OptionGroup var options: ClusterOptions

        struct View: Encodable {
            var network: String
            var node: ClusterNodeView?
            var localBlocks: [String]
            /// Blocks held locally that etcd gives to another node (every ADD is refused while any exist).
            var conflicts: [String]
            var conflict: String?
        }

        func run() throws {
            let context = try ClusterContext(options)
            let nodes = try context.nodeViews()
            let (local, _, conflict) = try context.local()
            let blocks = try context.blockViews()
            let conflicts = blocks.filter { $0.heldLocally && $0.owner != nil && $0.owner != context.cluster.nodeName }
                .map { "\($0.block) (owned by \($0.owner!))" }
            let view = View(network: context.network, node: nodes.first { $0.node == context.cluster.nodeName },
                            localBlocks: local.map(\.cidr.description), conflicts: conflicts, conflict: conflict)
            if options.json { try Output.printJSON(view) } else {
                print("network:   \(view.network)")
                print("node:      \(context.cluster.nodeName) (\(view.node?.registered == true ? "registered, boot \(view.node?.bootID ?? "?")" : "not registered"))")
                print("blocks:    \(view.localBlocks.joined(separator: ", "))")
                print("used/free: \(view.node?.used ?? 0)/\(view.node?.free ?? 0)")
                print("fenced:    \(view.node?.fences.isEmpty == false ? "yes" : "no")")
                print("conflicts: \(conflicts.isEmpty && conflict == nil ? "none" : (conflicts + [conflict].compactMap { $0 }).joined(separator: "; "))")
            }
        }
    }
}
