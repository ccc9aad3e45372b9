import Foundation
import Testing
import Addressing
import IPAM
@testable import LeaseStore

private struct Boom: Error {}

@Suite struct LeaseStoreTests {
    let timeout: Duration = .seconds(5)

    @Test func openCreatesPrivateDirectoryAndSchema() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir + "/a/b", "net1")
            let store = try LeaseStore.open(loc)
            #expect(fileExists(loc.databasePath))
            var st = stat()
            #expect(stat(loc.directory, &st) == 0)
            #expect(st.st_mode & 0o777 == 0o700)
            #expect(try store.read { try $0.leases() }.isEmpty)
            #expect(try store.read { try $0.generation() } == 0)
            #expect(try store.connection.scalarText("PRAGMA journal_mode") == "wal")
            // NORMAL: `write` fdatasyncs the WAL itself, after the lock (test_durability_order.py).
            #expect(try store.connection.scalarInt("PRAGMA synchronous") == 1)
            #expect(try store.connection.scalarInt("PRAGMA application_id") == LeaseStore.applicationID)
        }
    }

    @Test func insertLookupAndReopen() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let v4 = sampleLease("10.0.0.5")
            let v6 = sampleLease("fd00::5", rangeSet: 1)
            let other = sampleLease("10.0.0.6", container: "c2")
            do {
                let store = try LeaseStore.open(loc)
                try store.write(lockTimeout: timeout) { tx throws in
                    try tx.insert(v6)
                    try tx.insert(other)
                    try tx.insert(v4)
                }
            }
            let store = try LeaseStore.open(loc)
            try store.read { tx throws in
                #expect(try tx.lease(at: address("10.0.0.5")) == v4)
                #expect(try tx.lease(at: address("fd00::5")) == v6)
                #expect(try tx.lease(at: address("10.0.0.7")) == nil)
                #expect(try tx.leases() == [v4, other, v6])
                #expect(try tx.leases(containerID: "c1", ifname: "eth0") == [v4, v6])
                #expect(try tx.leases(containerID: "c1", ifname: "eth1").isEmpty)
            }
        }
    }

    @Test func insertOfTakenAddressFailsTyped() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            try store.write(lockTimeout: timeout) { try $0.insert(sampleLease("10.0.0.5")) }
            #expect(throws: StoreError.addressTaken(address("10.0.0.5"))) {
                try store.write(lockTimeout: timeout) { try $0.insert(sampleLease("10.0.0.5", container: "intruder")) }
            }
            #expect(try store.read { try $0.lease(at: address("10.0.0.5"))?.containerID } == "c1")
        }
    }

    @Test func updateChangesFieldsAndRequiresExistingLease() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            var lease = sampleLease("10.0.0.5")
            try store.write(lockTimeout: timeout) { try $0.insert(lease) }
            lease.state = .pendingRelease
            lease.hostInterface = nil
            lease.hostIfindex = nil
            try store.write(lockTimeout: timeout) { try $0.update(lease) }
            #expect(try store.read { try $0.lease(at: lease.address) } == lease)
            #expect(throws: StoreError.leaseNotFound(address("10.0.0.9"))) {
                try store.write(lockTimeout: timeout) { try $0.update(sampleLease("10.0.0.9")) }
            }
        }
    }

    @Test func releaseMovesLeaseToHistoryAndQuarantine() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            let lease = sampleLease("10.0.0.5")
            let releasedAt = Date(timeIntervalSince1970: 1_700_000_100.5)
            try store.write(lockTimeout: timeout) { try $0.insert(lease) }
            try store.write(lockTimeout: timeout) { try $0.release(lease, reason: "del", at: releasedAt) }
            try store.read { tx throws in
                #expect(try tx.lease(at: lease.address) == nil)
                #expect(try tx.history(of: lease.address) == [LeaseRecord(lease: lease, endedAt: releasedAt, reason: "del")])
                #expect(try tx.availability(of: lease.address, now: releasedAt, quarantine: .seconds(60)) == .quarantined)
            }
            // A second holder later; both show up in history, oldest first.
            let second = sampleLease("10.0.0.5", container: "c2", createdAt: releasedAt.addingTimeInterval(120))
            let end2 = releasedAt.addingTimeInterval(300)
            try store.write(lockTimeout: timeout) { tx throws in
                try tx.insert(second)
                try tx.release(second, reason: "gc", at: end2)
            }
            #expect(try store.read { try $0.history(of: lease.address).map(\.reason) } == ["del", "gc"])
            #expect(try store.read { try $0.history(of: address("10.0.0.6")) }.isEmpty)
        }
    }

    @Test func releaseRefusesAnotherAttachmentsLease() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            try store.write(lockTimeout: timeout) { try $0.insert(sampleLease("10.0.0.5", container: "owner")) }
            #expect(throws: StoreError.leaseNotFound(address("10.0.0.5"))) {
                try store.write(lockTimeout: timeout) { try $0.release(sampleLease("10.0.0.5", container: "stale"), reason: "del", at: Date()) }
            }
            #expect(throws: StoreError.leaseNotFound(address("10.0.0.8"))) {
                try store.write(lockTimeout: timeout) { try $0.release(sampleLease("10.0.0.8"), reason: "del", at: Date()) }
            }
            #expect(try store.read { try $0.lease(at: address("10.0.0.5"))?.containerID } == "owner")
            #expect(try store.read { try $0.history(of: address("10.0.0.5")) }.isEmpty)
        }
    }

    /// The history row is what was stored, not the caller's copy of the lease.
    @Test func releaseRecordsTheStoredLease() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            let stored = sampleLease("10.0.0.5")
            try store.write(lockTimeout: timeout) { try $0.insert(stored) }
            var callersCopy = stored
            callersCopy.netns = "/var/run/netns/elsewhere"
            callersCopy.hostInterface = nil
            let at = Date(timeIntervalSince1970: 1_700_000_200)
            try store.write(lockTimeout: timeout) { try $0.release(callersCopy, reason: "del", at: at) }
            #expect(try store.read { try $0.history(of: stored.address) } == [LeaseRecord(lease: stored, endedAt: at, reason: "del")])
        }
    }

    @Test func availabilityCoversTakenQuarantineAndExpiry() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            let t0 = Date(timeIntervalSince1970: 1_700_000_000)
            let q: Duration = .seconds(30)
            var pending = sampleLease("10.0.0.2", container: "p")
            pending.state = .pendingRelease
            try store.write(lockTimeout: timeout) { tx throws in
                try tx.insert(sampleLease("10.0.0.1"))
                try tx.insert(pending)
                try tx.insert(sampleLease("10.0.0.3", container: "r"))
                try tx.release(sampleLease("10.0.0.3", container: "r"), reason: "del", at: t0)
            }
            try store.read { tx throws in
                #expect(try tx.availability(of: address("10.0.0.1"), now: t0, quarantine: q) == .taken)
                #expect(try tx.availability(of: address("10.0.0.2"), now: t0, quarantine: q) == .taken)
                #expect(try tx.availability(of: address("10.0.0.4"), now: t0, quarantine: q) == .free)
                #expect(try tx.availability(of: address("10.0.0.3"), now: t0, quarantine: q) == .quarantined)
                #expect(try tx.availability(of: address("10.0.0.3"), now: t0.addingTimeInterval(29.999), quarantine: q) == .quarantined)
                #expect(try tx.availability(of: address("10.0.0.3"), now: t0.addingTimeInterval(30), quarantine: q) == .free)
                #expect(try tx.availability(of: address("10.0.0.3"), now: t0, quarantine: .zero) == .free)
                let counts = try tx.counts(now: t0, quarantine: q)
                #expect(counts.active == 1)
                #expect(counts.pendingRelease == 1)
                #expect(counts.quarantined == 1)
                #expect(counts.byRangeSet == [0: 2])
                #expect(try tx.counts(now: t0.addingTimeInterval(31), quarantine: q).quarantined == 0)
            }
            // Re-leasing a quarantined address clears its stamp.
            try store.write(lockTimeout: timeout) { try $0.insert(sampleLease("10.0.0.3", container: "new")) }
            try store.write(lockTimeout: timeout) { try $0.release(sampleLease("10.0.0.3", container: "new"), reason: "del", at: t0.addingTimeInterval(100)) }
            #expect(try store.read { try $0.availability(of: address("10.0.0.3"), now: t0.addingTimeInterval(110), quarantine: q) } == .quarantined)
        }
    }

    @Test func lastReservedPerRangeSet() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            #expect(try store.read { try $0.lastReserved(rangeSet: 0) } == nil)
            try store.write(lockTimeout: timeout) { tx throws in
                try tx.setLastReserved(address("10.0.0.9"), rangeSet: 0)
                try tx.setLastReserved(address("fd00::9"), rangeSet: 1)
            }
            try store.write(lockTimeout: timeout) { try $0.setLastReserved(address("10.0.0.10"), rangeSet: 0) }
            try store.read { tx throws in
                #expect(try tx.lastReserved(rangeSet: 0) == address("10.0.0.10"))
                #expect(try tx.lastReserved(rangeSet: 1) == address("fd00::9"))
                #expect(try tx.lastReserved(rangeSet: 2) == nil)
            }
        }
    }

    @Test func metaSetOverwriteDeleteAndGeneration() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            try store.write(lockTimeout: timeout) { try $0.setMeta(.frozen, "incident-42") }
            #expect(try store.read { try $0.meta(.frozen) } == "incident-42")
            try store.write(lockTimeout: timeout) { try $0.setMeta(.frozen, "incident-43") }
            #expect(try store.read { try $0.meta(.frozen) } == "incident-43")
            try store.write(lockTimeout: timeout) { try $0.setMeta(.frozen, nil) }
            #expect(try store.read { try $0.meta(.frozen) } == nil)
            #expect(try store.read { try $0.generation() } == 3)
            // A write that changes nothing does not move the generation.
            _ = try store.write(lockTimeout: timeout) { try $0.lease(at: address("10.0.0.1")) }
            #expect(try store.read { try $0.generation() } == 3)
        }
    }

    @Test func reservedCommitGenerationIsTheOneCommitted() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            try store.write(lockTimeout: timeout) { try $0.setMeta(.frozen, "x") }
            // A transaction that otherwise changes nothing still commits the reserved generation.
            let pending = try store.write(lockTimeout: timeout) { try $0.reserveCommitGeneration() }
            #expect(pending.value == 2)
            #expect(try store.read { try $0.generation() } == pending.value)
            // Even when the stored row already holds the value (an edited store), the bump happens once.
            try store.write(lockTimeout: timeout) { try $0.setMeta(.stampedGeneration, "4") }
            let again = try store.write(lockTimeout: timeout) { tx in
                try tx.reserveCommitGeneration()
            }
            #expect(again.value == 4)
            #expect(try store.read { try $0.generation() } == 4)
        }
    }

    @Test func auditLogKeepsOrderAndLimit() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            let t = Date(timeIntervalSince1970: 1_700_000_000.25)
            try store.write(lockTimeout: timeout) { tx throws in
                for i in 0..<5 { try tx.appendAudit(actor: "ipamctl", action: "release", detail: "10.0.0.\(i)", at: t.addingTimeInterval(Double(i))) }
            }
            let all = try store.read { try $0.auditLog() }
            #expect(all.map(\.detail) == (0..<5).map { "10.0.0.\($0)" })
            #expect(all.first?.at == t)
            #expect(all.first?.actor == "ipamctl")
            #expect(try store.read { try $0.auditLog(limit: 2) }.map(\.detail) == ["10.0.0.3", "10.0.0.4"])
        }
    }

    @Test func throwingBodyRollsBackEverything() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            #expect(throws: Boom.self) {
                try store.write(lockTimeout: timeout) { tx throws in
                    try tx.insert(sampleLease("10.0.0.5"))
                    try tx.setMeta(MetaKey(rawValue: "k"), "v")
                    try tx.setLastReserved(address("10.0.0.5"), rangeSet: 0)
                    throw Boom()
                }
            }
            try store.read { tx throws in
                #expect(try tx.leases().isEmpty)
                #expect(try tx.meta(MetaKey(rawValue: "k")) == nil)
                #expect(try tx.lastReserved(rangeSet: 0) == nil)
                #expect(try tx.generation() == 0)
            }
            // The store is usable afterwards (no transaction left open, lock released).
            try store.write(lockTimeout: .milliseconds(500)) { try $0.insert(sampleLease("10.0.0.6")) }
            #expect(try store.read { try $0.leases().count } == 1)
        }
    }

    @Test func readTransactionsAndReadOnlyStoresCannotWrite() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            #expect(throws: StoreError.readOnly(operation: "insert")) {
                try store.read { try $0.insert(sampleLease("10.0.0.5")) }
            }
            let reader = try LeaseStore.openReadOnly(loc)
            #expect(throws: StoreError.self) { try reader.write(lockTimeout: timeout) { _ in 1 } }
            #expect(try store.read { try $0.leases() }.isEmpty)
        }
    }

    @Test func readOnlyOpenSeesCommittedWritesAndReportsMissing() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            #expect(throws: StoreError.missing(path: loc.databasePath)) { try LeaseStore.openReadOnly(loc) }
            #expect(!fileExists(loc.directory)) // read-only open creates nothing
            let writer = try LeaseStore.open(loc)
            let reader = try LeaseStore.openReadOnly(loc)
            try writer.write(lockTimeout: timeout) { try $0.insert(sampleLease("10.0.0.5")) }
            #expect(try reader.read { try $0.leases().map(\.address) } == [address("10.0.0.5")])
            // A 0-byte file (crash before schema creation) is not a store yet.
            let loc2 = try location(dir, "empty")
            try FileManager.default.createDirectory(atPath: loc2.directory, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: loc2.databasePath, contents: Data()))
            #expect(throws: StoreError.missing(path: loc2.databasePath)) { try LeaseStore.openReadOnly(loc2) }
            // ... and a read-write open initialises it.
            #expect(try LeaseStore.open(loc2).read { try $0.generation() } == 0)
        }
    }

    @Test func readSnapshotIsConsistentWhileAnotherConnectionWrites() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let writer = try LeaseStore.open(loc)
            let reader = try LeaseStore.openReadOnly(loc)
            try writer.write(lockTimeout: timeout) { try $0.insert(sampleLease("10.0.0.1")) }
            try reader.read { tx throws in
                #expect(try tx.leases().count == 1)
                try writer.write(lockTimeout: timeout) { try $0.insert(sampleLease("10.0.0.2", container: "c2")) }
                #expect(try tx.leases().count == 1) // same snapshot
            }
            #expect(try reader.read { try $0.leases().count } == 2)
        }
    }

    @Test func pruneHistoryDropsOldRows() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            let t0 = Date(timeIntervalSince1970: 1_700_000_000)
            try store.write(lockTimeout: timeout) { tx throws in
                for i in 1...3 {
                    let lease = sampleLease("10.0.0.\(i)")
                    try tx.insert(lease)
                    try tx.release(lease, reason: "del", at: t0.addingTimeInterval(Double(i) * 100))
                }
            }
            #expect(try store.write(lockTimeout: timeout) { try $0.pruneHistory(endedBefore: t0.addingTimeInterval(250)) } == 2)
            #expect(try store.read { try $0.history(of: address("10.0.0.3")).count } == 1)
            #expect(try store.read { try $0.history(of: address("10.0.0.1")).count } == 0)
        }
    }
}
