#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import IPAM
import LeaseStore

/// The named steps of `IPAMService.allocate`, each run inside its transaction.
extension IPAMService {
    /// The attachment's active leases when it already has some (a retried ADD),
    /// refreshed with the rebuilt veth's ifindex and MAC so reconcile does not see
    /// the live address on a "different holder"; nil when it has none.
    func reuseExisting<Ledger: LeaseLedger>(_ attachment: Attachment, details: AttachmentDetails,
                                            in txn: Ledger) throws -> Allocation? {
        let existing = try txn.leases(containerID: attachment.containerID, ifname: attachment.ifname)
            .filter { $0.state == .active }
        guard !existing.isEmpty else { return nil }
        var current: [Lease] = []
        for var lease in existing.sorted(by: { $0.rangeSetIndex < $1.rangeSetIndex }) {
            let before = lease
            lease.netns = details.netns ?? lease.netns
            lease.hostInterface = details.hostInterface ?? lease.hostInterface
            lease.hostIfindex = details.hostIfindex ?? lease.hostIfindex
            lease.containerMAC = details.containerMAC ?? lease.containerMAC
            if lease != before { try txn.update(lease) }
            current.append(lease)
        }
        return Allocation(leases: current, reused: true)
    }

    /// Chooses and inserts one lease per range set: a requested address in the
    /// set that contains it, else the next free one round-robin. An address in
    /// `live` is never chosen. Throws when a request cannot be met or placed.
    /// `rangeSets` are the sets to allocate in (`allocationRangeSets(in:)`).
    func allocateNew<Ledger: LeaseLedger>(_ attachment: Attachment, details: AttachmentDetails, requested: [IPAddress],
                                          live: Set<IPAddress>, rangeSets: [RangeSet], now: Date,
                                          in txn: Ledger) throws -> [Lease] {
        var pending = requested
        var leases: [Lease] = []
        for (index, set) in rangeSets.enumerated() {
            let availability: (IPAddress) throws -> Availability = { address in
                if live.contains(address) { return .taken }
                return try txn.availability(of: address, now: now, quarantine: self.config.quarantine)
            }
            let address: IPAddress
            if let i = pending.firstIndex(where: { set.range(containing: $0) != nil }) {
                address = try requestedAddress(pending.remove(at: i), in: set, availability: availability)
            } else {
                address = try nextAddress(in: set, index: index, availability: availability, txn: txn)
            }
            let lease = Lease(address: address, rangeSetIndex: index, containerID: attachment.containerID,
                              ifname: attachment.ifname, netns: details.netns, createdAt: now,
                              hostInterface: details.hostInterface, hostIfindex: details.hostIfindex,
                              containerMAC: details.containerMAC, bootID: details.bootID)
            try txn.insert(lease)
            leases.append(lease)
        }
        guard pending.isEmpty else {
            throw IPAMServiceError.requestedUnplaced(pending.map(\.description))
        }
        return leases
    }

    /// The requested address, if the range set can give it.
    private func requestedAddress(_ wanted: IPAddress, in set: RangeSet,
                                  availability: (IPAddress) throws -> Availability) throws -> IPAddress {
        do {
            return try Allocator.allocate(requested: wanted, in: set, availability: availability).0
        } catch let error as IPAMError {
            throw IPAMServiceError.requestedUnavailable(address: wanted.description, detail: "\(error)")
        }
    }

    /// The next free address after the set's last reservation, recorded as the new last.
    private func nextAddress<Ledger: LeaseLedger>(in set: RangeSet, index: Int,
                                                  availability: (IPAddress) throws -> Availability,
                                                  txn: Ledger) throws -> IPAddress {
        let address: IPAddress
        do {
            address = try Allocator.allocate(in: set, after: try txn.lastReserved(rangeSet: index),
                                             availability: availability).0
        } catch let error as IPAMError {
            throw IPAMServiceError.exhausted(network: network, rangeSet: index, detail: "\(error)")
        }
        try txn.setLastReserved(address, rangeSet: index)
        return address
    }

    /// Releases the attachment's leases (found by `hostInterface` when it has
    /// none: leases adopted from the kernel); while the network is frozen they
    /// move to `pendingRelease` instead. Returns what it found (empty: nothing to do).
    func releaseLeases<Ledger: LeaseLedger>(_ attachment: Attachment, hostInterface: String?, reason: String,
                                            now: Date, in txn: Ledger) throws -> [Lease] {
        var leases = try txn.leases(containerID: attachment.containerID, ifname: attachment.ifname)
        if leases.isEmpty, let hostInterface { leases = try txn.leases(hostInterface: hostInterface) }
        let frozen = try txn.meta(MetaKey.frozen) != nil
        for var lease in leases {
            if frozen {
                lease.state = .pendingRelease
                try txn.update(lease)
            } else {
                try txn.release(lease, reason: reason, at: now)
            }
        }
        return leases
    }
}
