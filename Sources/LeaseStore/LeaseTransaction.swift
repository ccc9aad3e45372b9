#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import IPAM

/// The queries and mutations available inside `LeaseStore.write` / `read`.
///
/// Valid only for the duration of the closure it was passed to: using it
/// afterwards would run statements outside any transaction (and without the
/// flock), so that is a programming error and traps. Mutations through a
/// `read { }` transaction throw `.readOnly`: reads hold no flock.
public struct LeaseTransaction {
    let connection: SQLiteConnection
    let scope: Scope
    /// Whether this transaction holds the flock and may write.
    public let isWritable: Bool

    /// Reference-typed so every copy of the transaction sees it close.
    final class Scope { var isOpen = true }

    init(connection: SQLiteConnection, writable: Bool) {
        self.connection = connection
        self.scope = Scope()
        self.isWritable = writable
    }

    func checkOpen() {
        precondition(scope.isOpen, "LeaseTransaction used outside its write/read closure")
    }

    private func checkWritable(_ operation: String) throws(StoreError) {
        checkOpen()
        guard isWritable else { throw .readOnly(operation: operation) }
    }

    // MARK: Leases

    private static let leaseColumns = "address, range_set, container_id, ifname, netns, created_at, host_interface, host_ifindex, container_mac, boot_id, state"

    /// Every lease, ordered by address.
    public func leases() throws(StoreError) -> [Lease] {
        checkOpen()
        var result: [Lease] = []
        try connection.query("SELECT \(Self.leaseColumns) FROM leases") { stmt throws(StoreError) in
            result.append(try decodeLease(stmt, from: 0))
        }
        return result.sorted { $0.address < $1.address }
    }

    /// The leases of one attachment (one per range set for dual-stack), ordered by range set.
    public func leases(containerID: String, ifname: String) throws(StoreError) -> [Lease] {
        checkOpen()
        var result: [Lease] = []
        // Sorted here, not by ORDER BY: an attachment has one row per range
        // set, and a sorter costs the statement's compilation more than this.
        try connection.query(
            "SELECT \(Self.leaseColumns) FROM leases WHERE container_id = ?1 AND ifname = ?2",
            [.text(containerID), .text(ifname)]
        ) { stmt throws(StoreError) in
            result.append(try decodeLease(stmt, from: 0))
        }
        result.sort { $0.rangeSetIndex < $1.rangeSetIndex }
        return result
    }

    /// The lease holding `address`, whatever its state.
    public func lease(at address: IPAddress) throws(StoreError) -> Lease? {
        checkOpen()
        var result: Lease?
        try connection.query("SELECT \(Self.leaseColumns) FROM leases WHERE address = ?1", [.text(address.description)]) { stmt throws(StoreError) in
            result = try decodeLease(stmt, from: 0)
        }
        return result
    }

    /// What the allocator may do with `address`: `.taken` while any lease (active
    /// or pending release) holds it; `.quarantined` while its last release is
    /// younger than `quarantine`; `.free` otherwise. Two primary-key lookups.
    public func availability(of address: IPAddress, now: Date, quarantine: Duration) throws(StoreError) -> Availability {
        checkOpen()
        var taken = false
        var releasedAt: Int64?
        try connection.query(
            "SELECT EXISTS (SELECT 1 FROM leases WHERE address = ?1), (SELECT released_at FROM quarantine WHERE address = ?1)",
            [.text(address.description)]
        ) { stmt in
            taken = stmt.int(0) != 0
            releasedAt = stmt.optionalInt(1)
        }
        if taken { return .taken }
        // Saturating: any edit of the store can leave INT64_MAX here (issue 12).
        if let releasedAt, releasedAt.addingSaturated(quarantine.milliseconds) > now.milliseconds { return .quarantined }
        return .free
    }

    /// Records a new lease. Throws `.addressTaken` when any lease holds the
    /// address, so two attachments can never share one. Clears the address's
    /// quarantine stamp (the allocator chose to reuse it).
    public func insert(_ lease: Lease) throws(StoreError) {
        try checkWritable("insert")
        do {
            try connection.query(
                "INSERT INTO leases (\(Self.leaseColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                Self.bindings(lease))
        } catch {
            if case .sqlite(let code, _) = error, code == SQLITE_CONSTRAINT_PRIMARYKEY_CODE { throw .addressTaken(lease.address) }
            throw error
        }
        try connection.query("DELETE FROM quarantine WHERE address = ?1", [.text(lease.address.description)])
    }

    /// Replaces the stored lease at `lease.address` (e.g. to add the host veth
    /// after ADD created it, or to mark it pending release). Throws `.leaseNotFound`.
    public func update(_ lease: Lease) throws(StoreError) {
        try checkWritable("update")
        try connection.query("""
            UPDATE leases SET range_set = ?2, container_id = ?3, ifname = ?4, netns = ?5, created_at = ?6,
                host_interface = ?7, host_ifindex = ?8, container_mac = ?9, boot_id = ?10, state = ?11
            WHERE address = ?1
            """, Self.bindings(lease))
        guard connection.changes == 1 else { throw .leaseNotFound(lease.address) }
    }

    /// Ends `lease`: deletes it, appends a history row (from the stored lease)
    /// and stamps the address's quarantine with `at`. Only the lease held by the
    /// same container and ifname is released, so a stale caller can never free
    /// an address that has since gone to someone else; otherwise `.leaseNotFound`.
    public func release(_ lease: Lease, reason: String, at: Date) throws(StoreError) {
        try checkWritable("release")
        // The history row is copied from the stored row by the same key that
        // then deletes it (address, container, ifname), so what is recorded is
        // what was stored, and a lease now held by someone else matches neither
        // statement. Two statements to compile instead of three (no SELECT).
        let key: [SQLValue] = [Self.text(lease.address), .text(lease.containerID), .text(lease.ifname)]
        try connection.query("""
            INSERT INTO history (\(Self.leaseColumns), ended_at, reason)
            SELECT \(Self.leaseColumns), ?4, ?5 FROM leases WHERE address = ?1 AND container_id = ?2 AND ifname = ?3
            """, key + [.int(at.milliseconds), .text(reason)])
        guard connection.changes == 1 else { throw .leaseNotFound(lease.address) }
        try connection.query("DELETE FROM leases WHERE address = ?1 AND container_id = ?2 AND ifname = ?3", key)
        try connection.query("""
            INSERT INTO quarantine (address, released_at) VALUES (?1, ?2)
            ON CONFLICT (address) DO UPDATE SET released_at = excluded.released_at
            """, [key[0], .int(at.milliseconds)])
    }

    /// Ended leases of `address`, oldest first.
    public func history(of address: IPAddress) throws(StoreError) -> [LeaseRecord] {
        checkOpen()
        var result: [LeaseRecord] = []
        try connection.query(
            "SELECT \(Self.leaseColumns), ended_at, reason FROM history WHERE address = ?1 ORDER BY ended_at, id",
            [.text(address.description)]
        ) { stmt throws(StoreError) in
            let lease = try decodeLease(stmt, from: 0)
            result.append(LeaseRecord(lease: lease, endedAt: Date(milliseconds: stmt.int(11)), reason: stmt.text(12) ?? ""))
        }
        return result
    }

    /// Deletes history rows that ended before `date`; returns how many.
    @discardableResult
    public func pruneHistory(endedBefore date: Date) throws(StoreError) -> Int {
        try checkWritable("pruneHistory")
        try connection.query("DELETE FROM history WHERE ended_at < ?1", [.int(date.milliseconds)])
        return Int(connection.changes)
    }

    // MARK: Round-robin cursor

    /// The address last handed out from range set `rangeSet` (host-local's
    /// `last_reserved_ip.N`), where round-robin allocation resumes.
    public func lastReserved(rangeSet: Int) throws(StoreError) -> IPAddress? {
        checkOpen()
        guard let text = try connection.scalarText("SELECT address FROM last_reserved WHERE range_set = ?1", [.int(Int64(rangeSet))]) else {
            return nil
        }
        guard let address = IPAddress(text) else {
            throw .corrupt(path: connection.path, detail: "last_reserved holds \"\(text)\", not an address")
        }
        return address
    }

    public func setLastReserved(_ address: IPAddress, rangeSet: Int) throws(StoreError) {
        try checkWritable("setLastReserved")
        try connection.query("""
            INSERT INTO last_reserved (range_set, address) VALUES (?1, ?2)
            ON CONFLICT (range_set) DO UPDATE SET address = excluded.address
            """, [.int(Int64(rangeSet)), Self.text(address)])
    }

    // MARK: Meta and audit

    /// A value from the key/value table (freeze state, `generation`, `restored_at`, ...).
    public func meta(_ key: MetaKey) throws(StoreError) -> String? {
        checkOpen()
        return try connection.scalarText("SELECT value FROM meta WHERE key = ?1", [.text(key.rawValue)])
    }

    /// Sets `key` to `value`; nil deletes it.
    public func setMeta(_ key: MetaKey, _ value: String?) throws(StoreError) {
        try checkWritable("setMeta")
        if let value {
            try connection.query(LeaseStore.upsertMetaSQL, [.text(key.rawValue), .text(value), .int(0)])
        } else {
            try connection.query("DELETE FROM meta WHERE key = ?1", [.text(key.rawValue)])
        }
    }

    /// Adds `amount` to the integer in meta `key` (a missing row counts from 0;
    /// a value that is not an integer restarts at `amount`), in one statement
    /// without reading it first.
    public func increment(_ key: MetaKey, by amount: Int64) throws(StoreError) {
        try checkWritable("increment")
        try connection.query(LeaseStore.upsertMetaSQL, [.text(key.rawValue), .int(amount), .int(1)])
    }

    /// The store's write counter: incremented by every `write` that changed a row.
    public func generation() throws(StoreError) -> Int64 {
        guard let text = try meta(.generation) else { return 0 }
        guard let value = Int64(text) else {
            throw .corrupt(path: connection.path, detail: "meta generation is \"\(text)\", not an integer")
        }
        return value
    }

    /// Appends one line to the audit log (operator commands, forced actions).
    public func appendAudit(actor: String, action: String, detail: String, at: Date) throws(StoreError) {
        try checkWritable("appendAudit")
        try connection.query("INSERT INTO audit (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
                             [.int(at.milliseconds), .text(actor), .text(action), .text(detail)])
    }

    /// The newest `limit` audit entries, oldest first.
    public func auditLog(limit: Int = 100) throws(StoreError) -> [AuditEntry] {
        checkOpen()
        var result: [AuditEntry] = []
        try connection.query("SELECT id, at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?1", [.int(Int64(limit))]) { stmt in
            result.append(AuditEntry(id: stmt.int(0), at: Date(milliseconds: stmt.int(1)), actor: stmt.text(2) ?? "",
                                     action: stmt.text(3) ?? "", detail: stmt.text(4) ?? ""))
        }
        return result.reversed()
    }

    // MARK: Summaries

    /// Lease and quarantine counts for `ipamctl pools` and metrics, in two
    /// aggregate queries (no rows are materialised, so it stays cheap at 60k leases).
    public func counts(now: Date, quarantine: Duration) throws(StoreError) -> LeaseCounts {
        checkOpen()
        var counts = LeaseCounts()
        try connection.query("SELECT range_set, state, count(*) FROM leases GROUP BY range_set, state") { stmt in
            let n = Int(stmt.int(2))
            counts.byRangeSet[Int(stmt.int(0)), default: 0] += n
            if stmt.text(1) == LeaseState.pendingRelease.rawValue { counts.pendingRelease += n } else { counts.active += n }
        }
        counts.quarantined = Int(try connection.scalarInt("""
            SELECT count(*) FROM quarantine q
            WHERE q.released_at > ?1 AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.address = q.address)
            """, [.int(now.milliseconds.subtractingSaturated(quarantine.milliseconds))]) ?? 0)
        return counts
    }

    // MARK: Encoding

    private static func text(_ address: IPAddress) -> SQLValue { .text(address.description) }

    private static func bindings(_ lease: Lease) -> [SQLValue] {
        [text(lease.address), .int(Int64(lease.rangeSetIndex)), .text(lease.containerID), .text(lease.ifname),
         .optional(lease.netns), .int(lease.createdAt.milliseconds), .optional(lease.hostInterface),
         .optional(lease.hostIfindex), .optional(lease.containerMAC), .optional(lease.bootID), .text(lease.state.rawValue)]
    }

    /// Decodes the 11 lease columns starting at `from`; a row we cannot parse
    /// means the file was edited or damaged, reported as `.corrupt`.
    private func decodeLease(_ stmt: Statement, from c: Int32) throws(StoreError) -> Lease {
        let addressText = stmt.text(c) ?? ""
        guard let address = IPAddress(addressText) else {
            throw .corrupt(path: connection.path, detail: "lease address \"\(addressText)\" is not an address")
        }
        let stateText = stmt.text(c + 10) ?? ""
        guard let state = LeaseState(rawValue: stateText) else {
            throw .corrupt(path: connection.path, detail: "lease \(addressText) has unknown state \"\(stateText)\"")
        }
        return Lease(address: address, rangeSetIndex: Int(stmt.int(c + 1)), containerID: stmt.text(c + 2) ?? "",
                     ifname: stmt.text(c + 3) ?? "", netns: stmt.text(c + 4), createdAt: Date(milliseconds: stmt.int(c + 5)),
                     hostInterface: stmt.text(c + 6), hostIfindex: stmt.optionalInt(c + 7).map { Int($0) },
                     containerMAC: stmt.text(c + 8), bootID: stmt.text(c + 9), state: state)
    }
}

/// `SQLITE_CONSTRAINT_PRIMARYKEY` (macro not imported into Swift).
let SQLITE_CONSTRAINT_PRIMARYKEY_CODE: Int32 = 19 | (6 << 8)

// Times come back from the store as any Int64 an edit left there (INT64_MAX
// included), so every conversion and sum below saturates instead of trapping:
// an absurd stamp must give an answer, never a SIGILL that no DEL can get past.
extension Date {
    /// Whole milliseconds since 1970, the store's time unit (saturating at the Int64 bounds).
    var milliseconds: Int64 { Int64(saturating: (timeIntervalSince1970 * 1000).rounded(.down)) }
    init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
}

extension Duration {
    /// Whole milliseconds (saturating at the Int64 bounds).
    var milliseconds: Int64 {
        components.seconds.multipliedSaturated(by: 1000)
            .addingSaturated(components.attoseconds / 1_000_000_000_000_000)
    }
}

extension Int64 {
    /// `value` rounded toward zero, clamped to the Int64 range; NaN is 0.
    init(saturating value: Double) {
        if value.isNaN { self = 0 } else if value >= 9.223372036854775807e18 { self = .max }
        else if value <= -9.223372036854775808e18 { self = .min } else { self = Int64(value) }
    }

    func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    func subtractingSaturated(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : difference
    }

    func multipliedSaturated(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }
}
