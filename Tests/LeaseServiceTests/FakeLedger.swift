import Foundation
import Addressing
import IPAM
import LeaseStore

/// An in-memory `LeaseLedger` with `LeaseTransaction`'s semantics, so the
/// lease service's allocation and release steps run without SQLite.
///
/// A class: the protocol's mutations are non-mutating (as on the transaction,
/// whose state lives in the database), so the fake keeps its state by reference.
final class FakeLedger: LeaseLedger {
    var rows: [IPAddress: Lease] = [:]
    /// When each address's last lease ended (its quarantine start).
    var releasedAt: [IPAddress: Date] = [:]
    var lastReservedBySet: [Int: IPAddress] = [:]
    var metaValues: [MetaKey: String] = [:]
    /// Ended leases, in release order (the store's history table).
    var history: [(lease: Lease, reason: String)] = []
    /// How many `update` calls changed a row (a retried ADD must not rewrite an unchanged lease).
    var updates = 0

    init(_ leases: [Lease] = []) {
        for lease in leases { rows[lease.address] = lease }
    }

    func leases(containerID: String, ifname: String) throws(StoreError) -> [Lease] {
        rows.values.filter { $0.containerID == containerID && $0.ifname == ifname }
            .sorted { $0.rangeSetIndex < $1.rangeSetIndex }
    }

    func leases(hostInterface: String) throws(StoreError) -> [Lease] {
        rows.values.filter { $0.hostInterface == hostInterface }.sorted { $0.address < $1.address }
    }

    func availability(of address: IPAddress, now: Date, quarantine: Duration) throws(StoreError) -> Availability {
        if rows[address] != nil { return .taken }
        let c = quarantine.components
        if let at = releasedAt[address],
           at.addingTimeInterval(Double(c.seconds) + Double(c.attoseconds) / 1e18) > now {
            return .quarantined
        }
        return .free
    }

    func insert(_ lease: Lease) throws(StoreError) {
        guard rows[lease.address] == nil else { throw .addressTaken(lease.address) }
        rows[lease.address] = lease
        releasedAt[lease.address] = nil
    }

    func update(_ lease: Lease) throws(StoreError) {
        guard rows[lease.address] != nil else { throw .leaseNotFound(lease.address) }
        rows[lease.address] = lease
        updates += 1
    }

    func release(_ lease: Lease, reason: String, at: Date) throws(StoreError) {
        guard let stored = rows[lease.address], stored.containerID == lease.containerID,
              stored.ifname == lease.ifname else { throw .leaseNotFound(lease.address) }
        rows[lease.address] = nil
        history.append((stored, reason))
        releasedAt[lease.address] = at
    }

    func lastReserved(rangeSet: Int) throws(StoreError) -> IPAddress? { lastReservedBySet[rangeSet] }

    func setLastReserved(_ address: IPAddress, rangeSet: Int) throws(StoreError) {
        lastReservedBySet[rangeSet] = address
    }

    func meta(_ key: MetaKey) throws(StoreError) -> String? { metaValues[key] }
}
