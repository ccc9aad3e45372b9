import Addressing

/// The host-gw routes a node needs: every block another node owns, via that
/// node's `nodeAddress`. Pure, so the sync loop's decisions are unit-tested.
///
/// Routes only carry traffic; they never decide allocation. So a sync loop
/// that dies or lags can leave a route stale (traffic to a moved block goes
/// to its old owner), but it can never make an address live twice.
public struct RoutePlan: Sendable, Hashable {
    /// Destination block -> next hop.
    public var routes: [IPNetwork: IPAddress]

    /// - Parameters:
    ///   - blocks: every block in etcd with its owner's name.
    ///   - nodes: each registered node's underlay address.
    ///   - me: this node, whose own blocks are on its bridge and get no route.
    public init(blocks: [IPNetwork: String], nodes: [String: IPAddress], me: String) {
        var routes: [IPNetwork: IPAddress] = [:]
        for (block, owner) in blocks where owner != me {
            guard let via = nodes[owner], via.isIPv4 == block.address.isIPv4 else { continue }
            routes[block] = via
        }
        self.routes = routes
    }

    /// What to change, given the routes this node installed earlier (by its
    /// route protocol marker): the ones to add or replace, and the ones to delete.
    public func diff(installed: [IPNetwork: IPAddress]) -> (upsert: [IPNetwork: IPAddress], delete: [IPNetwork]) {
        let upsert = routes.filter { installed[$0.key] != $0.value }
        let delete = installed.keys.filter { routes[$0] == nil }.sorted { $0.address < $1.address }
        return (upsert, delete)
    }
}
