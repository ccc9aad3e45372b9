#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import IPAM
import IPAMPlugin
import KernelInventory
import LeaseStore
import Netlink

/// Proves, inside the allocation transaction, that the store knows every
/// address live on the bridge, and makes it so when it does not.
///
/// The cheap check runs on every ADD: one link dump of the bridge's ports
/// compared with the host interfaces the store has recorded. Only ports the
/// store does not know (store deleted, emptied, restored from an old backup,
/// written by a killed process) cost an address dump of their peer namespace.
/// After `ipamctl restore` every port is checked once, since a restored lease
/// may name the right port but an old address. What it finds is adopted into
/// the store (attributed through the port's alias) and returned as live, so
/// the allocator can never pick it.
struct KernelGuard {
    let bridge: Link
    let inventory: KernelInventory
    /// The port this ADD just created: it has no address yet.
    let ownPort: String
    let config: IPAMConfig
    let now: Date

    func liveAddresses(_ txn: LeaseTransaction) throws -> Set<IPAddress> {
        // Remember the bridge so `ipamctl reconcile` knows where to look.
        if try txn.meta(BridgeRecord.key) != bridge.name { try txn.setMeta(BridgeRecord.key, bridge.name) }
        var live = Set(try inventory.netlink.addresses(linkIndex: bridge.index).map(\.address.address))
        let ports = try inventory.netlink.bridgePorts(bridgeIndex: bridge.index)
            .filter { $0.name != ownPort }.map(BridgePort.init)
        let restored = try txn.meta(RestoreMarker.key) != nil
        let known = try txn.hostInterfaces()
        let suspects = restored ? ports : ports.filter { !known.contains($0.link.name) }
        guard !suspects.isEmpty else { return live }
        let observed = try inventory.observedAddresses(on: suspects)
        let portsByName = Dictionary(suspects.map { ($0.link.name, $0) }, uniquingKeysWith: { a, _ in a })
        var adopted: [String] = []
        for seen in observed {
            live.insert(seen.address)
            guard try txn.lease(at: seen.address) == nil,
                  let rangeSet = config.rangeSets.firstIndex(where: { $0.range(containing: seen.address) != nil }),
                  let port = seen.hostInterface.flatMap({ portsByName[$0] }) else { continue }
            try txn.insert(Lease(address: seen.address, rangeSetIndex: rangeSet,
                                 containerID: port.containerID ?? "adopted-\(port.link.name)",
                                 ifname: port.ifname ?? "unknown", netns: nil, createdAt: now,
                                 hostInterface: port.link.name, hostIfindex: port.link.index, bootID: BootID.current))
            adopted.append("\(seen.address) on \(port.link.name)")
        }
        if !adopted.isEmpty {
            try txn.appendAudit(actor: "holdfast", action: "adopt",
                                detail: "store did not know live addresses: \(adopted.joined(separator: ", "))", at: now)
            Log.error("adopted \(adopted.count) live address(es) the lease store did not know: \(adopted.joined(separator: ", "))")
        }
        if restored { try txn.setMeta(RestoreMarker.key, nil) }
        return live
    }
}

/// The meta key `LeaseStore.restore` sets; cleared once a full check ran.
enum RestoreMarker {
    static let key = "restored_at"
}
