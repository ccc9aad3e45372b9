#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import ArgumentParser
import Cluster
import Etcd
import Glibc
import Netlink

extension Ipamctl.ClusterCommand {
    /// Installs host-gw routes to other nodes' blocks via their `nodeAddress`,
    /// and removes the ones whose block moved or went. Off the allocation path:
    /// run it once, or with `--watch` as a service (cni/holdfast-cluster-routes.service).
    ///
    /// It only ever touches routes carrying its own protocol marker
    /// (`proto 72` in `ip route`), in the main table. When etcd cannot be read
    /// it changes nothing, so an etcd outage never takes routes away.
    struct SyncRoutes: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync-routes", abstract: "Route other nodes' blocks via their nodeAddress (once, or --watch).")
        @OptionGroup var options: ClusterOptions
        @Flag(help: "Keep syncing every --interval seconds.") var watch = false
        @Option(help: "Seconds between syncs with --watch.") var interval: Int = 5

        /// RTPROT value marking Holdfast's cluster routes.
        static let routeProtocol: UInt8 = 72

        struct Change: Encodable {
            var upserted: [String]
            var deleted: [String]
            var failed: [String]
        }

        func validate() throws {
            guard (1...3600).contains(interval) else { throw ValidationError("--interval must be 1...3600 seconds") }
        }

        func run() throws {
            let context = try ClusterContext(options)
            guard watch else {
                let change = try sync(context)
                if options.json { try Output.printJSON(change) } else { print(Self.describe(change)) }
                if !change.failed.isEmpty { throw ExitCode(1) }
                return
            }
            while true {
                do {
                    let change = try sync(context)
                    if !change.upserted.isEmpty || !change.deleted.isEmpty || !change.failed.isEmpty {
                        Self.log(Self.describe(change))
                    }
                } catch {
                    Self.log("sync-routes: \(error); routes left as they are")
                }
                sleep(UInt32(interval))
            }
        }

        func sync(_ context: ClusterContext) throws -> Change {
            let client = EtcdClient(config: context.cluster.etcd)
            let keys = context.keys
            var blocks: [IPNetwork: String] = [:]
            for kv in try client.range(keys.blocks, prefix: true).kvs {
                if let cidr = keys.blockCIDR(fromKey: kv.key), let owner = BlockRecord.fromEtcdValue(kv.value)?.owner { blocks[cidr] = owner }
            }
            var nodes: [String: IPAddress] = [:]
            for kv in try client.range(keys.nodes, prefix: true).kvs {
                if let record = NodeRecord.fromEtcdValue(kv.value), let a = record.address.flatMap({ IPAddress($0) }) { nodes[record.node] = a }
            }
            let plan = RoutePlan(blocks: blocks, nodes: nodes, me: context.cluster.nodeName)
            let socket = try NetlinkSocket()
            var installed: [IPNetwork: IPAddress] = [:]
            for route in try socket.routes() where route.routeProtocol == Self.routeProtocol {
                if let gw = route.gateway { installed[route.destination] = gw }
            }
            let (upsert, delete) = plan.diff(installed: installed)
            var change = Change(upserted: [], deleted: [], failed: [])
            for (block, via) in upsert.sorted(by: { $0.key.address < $1.key.address }) {
                var route = Route(destination: block, gateway: via)
                route.routeProtocol = Self.routeProtocol
                do {
                    try socket.addRoute(route, replace: true)
                    change.upserted.append("\(block) via \(via)")
                } catch {
                    change.failed.append("\(block) via \(via): \(error)")
                }
            }
            for block in delete {
                do {
                    try socket.deleteRoute(Route(destination: block, gateway: installed[block]))
                    change.deleted.append(block.description)
                } catch {
                    change.failed.append("delete \(block): \(error)")
                }
            }
            return change
        }

        /// Logs go to stderr; stdout is for the result.
        static func log(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }

        static func describe(_ c: Change) -> String {
            var lines = c.upserted.map { "route \($0)" } + c.deleted.map { "deleted route \($0)" } + c.failed.map { "FAILED \($0)" }
            if lines.isEmpty { lines = ["routes up to date"] }
            return lines.joined(separator: "\n")
        }
    }
}
