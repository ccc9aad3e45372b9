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

/// The bridge plugin's `CurrencyGuard`: the network's proof file, with the
/// bridge's ports as the evidence when it does not match.
///
/// Proven: O(1), one file read and three indexed reads. Not proven: every port
/// of the bridge is read, its peer's addresses through one address dump per
/// peer namespace; what is live but not leased is adopted through the shared
/// `PlanApplier` (attributed through the port's alias and the peer's netns
/// path), and everything live is returned so the allocator can never pick it.
/// The proof is per network, so networks sharing a bridge never overwrite
/// each other's (they did when the stamp lived in the bridge's alias).
struct KernelGuard {
    let bridge: Link
    /// Addresses on the bridge itself (never handed out), read once per ADD.
    let bridgeAddresses: [InterfaceAddress]
    let currency: CurrencyGuard

    init(bridge: Link, bridgeAddresses: [InterfaceAddress] = [], inventory: KernelInventory, config: IPAMConfig,
         location: StoreLocation, now: Date, ownPort: String?) {
        self.bridge = bridge
        self.bridgeAddresses = bridgeAddresses
        currency = CurrencyGuard(proof: ProofFile(directory: config.kernelEvidence.proofDir, location: location),
                                 rangeSets: config.rangeSets, now: now,
                                 evidence: { try Self.evidence(bridge: bridge, inventory: inventory, ownPort: ownPort) })
    }

    /// For ADD: every address that must not be handed out (the bridge's own,
    /// and, when the proof did not match, everything live on its ports).
    func liveAddresses(_ txn: LeaseTransaction) throws -> Set<IPAddress> {
        // Remember the bridge so `ipamctl reconcile` knows where to look.
        if try txn.meta(.bridge) != bridge.name { try txn.setMeta(.bridge, bridge.name) }
        return try currency.liveAddresses(txn).union(bridgeAddresses.map(\.address.address))
    }

    /// For DEL, before it changes anything: does the proof vouch for the store?
    func checkCurrent(_ txn: LeaseTransaction) throws { try currency.checkCurrent(txn) }

    /// Writes the proof of what this transaction commits (only if proven at its start).
    func stamp(_ txn: LeaseTransaction) throws { try currency.stamp(txn) }

    /// The bridge's ports (but `ownPort`, which has no address yet) and their peers' addresses.
    static func evidence(bridge: Link, inventory: KernelInventory, ownPort: String?) throws -> KernelEvidence {
        let ports = try inventory.netlink.bridgePorts(bridgeIndex: bridge.index).filter { $0.name != ownPort }
            .map(BridgePort.init)
        let observed = try inventory.observedAddresses(on: ports)
        let byName = Dictionary(ports.map { ($0.link.name, $0) }, uniquingKeysWith: { a, _ in a })
        let paths = inventory.netnsPaths(for: Set(observed.compactMap { $0.hostInterface.flatMap { byName[$0]?.link.linkNetnsID } }))
        return KernelEvidence(observed: observed, holder: { seen in
            let port = seen.hostInterface.flatMap { byName[$0] }
            return LiveHolder(containerID: port?.containerID, ifname: port?.ifname,
                              netns: port?.link.linkNetnsID.flatMap { paths[$0] })
        })
    }
}
