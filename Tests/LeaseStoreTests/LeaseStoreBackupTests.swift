import Foundation
import Testing
import Addressing
import IPAM
@testable import LeaseStore

@Suite struct LeaseStoreBackupTests {
    let timeout: Duration = .seconds(5)

    @Test func backupAndRestoreRoundTrip() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir + "/data")
            let backupPath = dir + "/backup.db"
            let store = try LeaseStore.open(loc)
            try store.write(lockTimeout: timeout) { tx throws in
                try tx.insert(sampleLease("10.0.0.5"))
                try tx.insert(sampleLease("fd00::5", rangeSet: 1))
                try tx.setLastReserved(address("10.0.0.5"), rangeSet: 0)
                try tx.setMeta(.frozen, "yes")
            }
            let generationAtBackup = try store.read { try $0.generation() }
            try store.backup(to: backupPath)
            #expect(!fileExists(backupPath + "-wal"))
            #expect(throws: StoreError.io(operation: "backup to \(backupPath)", errno: EEXIST)) { try store.backup(to: backupPath) }

            // Life goes on after the backup: one more lease, one released.
            try store.write(lockTimeout: timeout) { tx throws in
                try tx.insert(sampleLease("10.0.0.6", container: "later"))
                try tx.release(sampleLease("10.0.0.5"), reason: "del", at: Date())
            }
            let restoredAt = Date(timeIntervalSince1970: 1_800_000_000)
            let preserved = try LeaseStore.restore(from: backupPath, to: loc, lockTimeout: timeout, actor: "test", at: restoredAt)

            let reopened = try LeaseStore.open(loc)
            try reopened.read { tx throws in
                #expect(try tx.leases().map(\.address) == [address("10.0.0.5"), address("fd00::5")])
                #expect(try tx.lease(at: address("10.0.0.5")) == sampleLease("10.0.0.5"))
                #expect(try tx.lastReserved(rangeSet: 0) == address("10.0.0.5"))
                #expect(try tx.meta(.frozen) == "yes")
                #expect(try tx.meta(.restoredAt) == "1800000000000")
                #expect(try tx.meta(.restoredFrom) == backupPath)
                #expect(try tx.generation() == generationAtBackup + 1)
                #expect(try tx.auditLog().last?.action == "restore")
            }
            try reopened.verify()
            // A connection that stayed open across the restore sees it too (no stale file).
            #expect(try store.read { try $0.meta(.restoredAt) } == "1800000000000")
            #expect(try store.read { try $0.lease(at: address("10.0.0.6")) } == nil)
            #expect(try FileManager.default.contentsOfDirectory(atPath: loc.directory).filter { $0.contains("restore-tmp") }.isEmpty)

            // The replaced database is kept, whole, for the operator.
            let kept = try #require(preserved)
            #expect(kept == loc.directory + "/leases.db.pre-restore-1800000000000")
            let old = try SQLiteConnection(path: kept, flags: 0x1 /* SQLITE_OPEN_READONLY */)
            #expect(try old.scalarText("SELECT container_id FROM leases WHERE address = '10.0.0.6'") == "later")
            #expect(try old.scalarInt("SELECT count(*) FROM leases WHERE address = '10.0.0.5'") == 0)
        }
    }

    @Test func restoreRefusesABadBackupAndChangesNothing() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            try store.write(lockTimeout: timeout) { try $0.insert(sampleLease("10.0.0.5")) }
            try store.checkpoint()
            let liveBefore = fileBytes(loc.databasePath)
            let foreign = dir + "/foreign.db"
            do {
                let other = try SQLiteConnection(path: foreign, flags: SQLITE_OPEN_READWRITE_CREATE)
                try other.exec("CREATE TABLE t (x)")
            }
            let garbage = dir + "/garbage.db"
            #expect(FileManager.default.createFile(atPath: garbage, contents: Data(repeating: 0xAB, count: 8192)))
            let empty = dir + "/empty.db"
            #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
            for bad in [foreign, garbage, empty] {
                #expect(throws: StoreError.self) { try LeaseStore.restore(from: bad, to: loc, lockTimeout: timeout) }
            }
            #expect(throws: StoreError.self) { try LeaseStore.restore(from: dir + "/absent.db", to: loc, lockTimeout: timeout) }
            #expect(fileBytes(loc.databasePath) == liveBefore)
            #expect(try store.read { try $0.leases().count } == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: loc.directory).filter { $0.contains("restore") }.isEmpty)
        }
    }

    @Test func restoreReplacesACorruptStoreAndKeepsIt() throws {
        try withTemporaryDirectory { dir in
            let source = try location(dir, "source")
            let backupPath = dir + "/b.db"
            do {
                let store = try LeaseStore.open(source)
                try store.write(lockTimeout: timeout) { try $0.insert(sampleLease("10.0.0.7")) }
                try store.backup(to: backupPath)
            }
            let target = try location(dir, "target")
            try FileManager.default.createDirectory(atPath: target.directory, withIntermediateDirectories: true)
            let junk = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            try junk.write(to: URL(fileURLWithPath: target.databasePath))
            #expect(throws: StoreError.self) { try LeaseStore.open(target) }

            let kept = try #require(try LeaseStore.restore(from: backupPath, to: target, lockTimeout: timeout))
            #expect(fileBytes(kept) == Array(junk))
            #expect(try LeaseStore.open(target).read { try $0.leases().map(\.address) } == [address("10.0.0.7")])
        }
    }

    @Test func restoreWaitsForTheWriterLock() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            let backupPath = dir + "/b.db"
            try store.backup(to: backupPath)
            let fd = open(loc.lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
            defer { close(fd) }
            #expect(throws: StoreError.self) { try LeaseStore.restore(from: backupPath, to: loc, lockTimeout: .milliseconds(100)) }
            #expect(try store.read { try $0.meta(.restoredAt) } == nil)
        }
    }
}
