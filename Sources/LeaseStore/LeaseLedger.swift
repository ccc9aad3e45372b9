#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import IPAM

/// The lease rows and meta keys the lease service's allocation and release
/// steps read and change inside one transaction: `LeaseTransaction` in
/// production, an in-memory fake in the LeaseServiceTests target.
///
/// Why a protocol: the steps that decide which address an attachment gets
/// (reuse on a retried ADD, round-robin, requested addresses, live-address
/// exclusion, exhaustion, frozen release) can then be tested without SQLite
/// or a temporary directory. The steps take it as a generic parameter, which
/// the compiler specializes for `LeaseTransaction` within LeaseService, so the
/// ADD/DEL path pays no existential box and no extra allocation.
///
/// The semantics are `LeaseTransaction`'s; a conforming type must keep them
/// (they are what the tests prove the steps against).
public protocol LeaseLedger {
    /// The attachment's leases (any state), in range-set order.
    func leases(containerID: String, ifname: String) throws(StoreError) -> [Lease]
    /// The leases recorded against one host interface (adopted leases on DEL).
    func leases(hostInterface: String) throws(StoreError) -> [Lease]
    /// `.taken` while any lease holds `address`, `.quarantined` while its last
    /// release is younger than `quarantine`, else `.free`.
    func availability(of address: IPAddress, now: Date, quarantine: Duration) throws(StoreError) -> Availability
    /// Records a new lease; `.addressTaken` when the address is held.
    func insert(_ lease: Lease) throws(StoreError)
    /// Replaces the lease at `lease.address`; `.leaseNotFound` when there is none.
    func update(_ lease: Lease) throws(StoreError)
    /// Ends the lease held by the same container and ifname (else
    /// `.leaseNotFound`) and starts the address's quarantine at `at`.
    func release(_ lease: Lease, reason: String, at: Date) throws(StoreError)
    /// The range set's last round-robin reservation.
    func lastReserved(rangeSet: Int) throws(StoreError) -> IPAddress?
    /// Records the range set's last round-robin reservation.
    func setLastReserved(_ address: IPAddress, rangeSet: Int) throws(StoreError)
    /// A meta value (freeze state and the like); nil when unset.
    func meta(_ key: MetaKey) throws(StoreError) -> String?
}

extension LeaseTransaction: LeaseLedger {}
