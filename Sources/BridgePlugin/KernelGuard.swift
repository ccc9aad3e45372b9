#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import IPAM
import LeaseService
import KernelInventory
import LeaseStore
import Netlink

/// Proves, inside the allocation transaction, that the store knows every
/// address live on the bridge, and makes it so when it does not.
///
/// The proof is the bridge's `StoreStamp`: one link lookup and three indexed
/// reads. When it does not match (store deleted, emptied, edited, restored,
/// or a writer died mid-way), every port of the bridge is read: its peer's
/// addresses through one address dump per peer namespace. What is live but not
/// leased is adopted (attributed through the port's alias) and everything live
/// is returned, so the allocator can never pick it. `stamp` writes the new
/// stamp as the transaction's last step.
struct KernelGuard {
    let bridge: Link
    let inventory: KernelInventory
    let config: IPAMConfig
    let now: Date
    /// The port this ADD created: it has no address yet.
    let ownPort: String?
    /// Addresses on the bridge itself (never handed out), read once per ADD.
    let bridgeAddresses: [InterfaceAddress]
    /// Set once `liveAddresses` proved (or made) the store current in this transaction.
    private let verified = Flag()

    init(bridge: Link, bridgeAddresses: [InterfaceAddress] = [], inventory: KernelInventory, config: IPAMConfig,
         now: Date, ownPort: String?) {
        self.bridge = bridge
        self.bridgeAddresses = bridgeAddresses
        self.inventory = inventory
        self.config = config
        self.now = now
        self.ownPort = ownPort
    }

    func liveAddresses(_ txn: LeaseTransaction) throws -> Set<IPAddress> {
        let nl = inventory.netlink
        // Remember the bridge so `ipamctl reconcile` knows where to look.
        if try txn.meta(BridgeRecord.key) != bridge.name { try txn.setMeta(BridgeRecord.key, bridge.name) }
        var live = Set(bridgeAddresses.map(\.address.address))
        let restored = try txn.meta(LeaseStore.restoredMarkerKey) != nil
        if !restored, let committed = try StoreStamp.committed(txn),
           committed == StoreStamp(alias: try nl.link(index: bridge.index)?.alias) {
            verified.isSet = true
            return live
        }
        // The store cannot prove it is current: read every port.
        let ports = try nl.bridgePorts(bridgeIndex: bridge.index).filter { $0.name != ownPort }.map(BridgePort.init)
        let byName = Dictionary(ports.map { ($0.link.name, $0) }, uniquingKeysWith: { a, _ in a })
        var adopted: [String] = []
        let observed = try inventory.observedAddresses(on: ports)
        var lost: [(ObservedAddress, BridgePort, Int)] = []
        for seen in observed {
            live.insert(seen.address)
            guard try txn.lease(at: seen.address) == nil,
                  let rangeSet = config.rangeSets.firstIndex(where: { $0.range(containing: seen.address) != nil }),
                  let port = seen.hostInterface.flatMap({ byName[$0] }) else { continue }
            lost.append((seen, port, rangeSet))
        }
        let paths = inventory.netnsPaths(for: Set(lost.compactMap { $0.1.link.linkNetnsID }))
        for (seen, port, rangeSet) in lost {
            try txn.insert(Lease(address: seen.address, rangeSetIndex: rangeSet,
                                 containerID: port.containerID ?? "\(IPAMService.adoptedPrefix)\(port.link.name)",
                                 ifname: port.ifname ?? "unknown",
                                 netns: port.link.linkNetnsID.flatMap { paths[$0] }, createdAt: now,
                                 hostInterface: port.link.name, hostIfindex: port.link.index, bootID: BootID.current))
            adopted.append("\(seen.address) on \(port.link.name)")
        }
        if !adopted.isEmpty {
            try txn.appendAudit(actor: "holdfast", action: "adopt",
                                detail: "store did not know live addresses: \(adopted.joined(separator: ", "))", at: now)
            Log.error("adopted \(adopted.count) live address(es) the lease store did not know: \(adopted.joined(separator: ", "))")
        }
        if restored { try txn.setMeta(LeaseStore.restoredMarkerKey, nil) }
        verified.isSet = true
        return live
    }

    /// For writers that do not allocate (DEL): notes, before the transaction
    /// changes anything, whether the stamp proves the store current.
    func checkCurrent(_ txn: LeaseTransaction) throws {
        guard try txn.meta(LeaseStore.restoredMarkerKey) == nil, let committed = try StoreStamp.committed(txn) else {
            verified.isSet = false
            return
        }
        verified.isSet = committed == StoreStamp(alias: try inventory.netlink.link(index: bridge.index)?.alias)
    }

    /// Stamps the bridge with the state this transaction commits. A crash after
    /// this and before COMMIT leaves a stamp newer than the store: the next ADD
    /// then reads the kernel in full, which is the safe direction.
    ///
    /// Only a store proven current at the start of this transaction (by
    /// `liveAddresses` or `checkCurrent`) is stamped: stamping an unproven store
    /// would hide a lost lease from the next ADD.
    func stamp(_ txn: LeaseTransaction) throws {
        guard verified.isSet else { return }
        try inventory.netlink.setAlias(index: bridge.index, alias: try StoreStamp.pending(txn).alias)
    }
}

/// A mutable flag a value type can carry through the transaction's closures.
final class Flag {
    var isSet = false
}
