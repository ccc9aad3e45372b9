import Foundation
import Testing
import Addressing
import IPAM
import CSQLiteVFS
@testable import LeaseStore

/// The two things that keep a commit's one fdatasync cheap (QuietFchown.c,
/// WALWriteback.c): reopening a store does not touch the WAL's inode, and the
/// committing connection can find its WAL's descriptor to start the write-back.
@Suite struct WALSyncCostTests {
    private func changeTime(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_ctim.tv_sec * 1_000_000_000 + st.st_ctim.tv_nsec
    }

    /// As root, SQLite chowns every WAL it opens to the database's owner; a
    /// chown that changes nothing must not be made, since it dirties the inode
    /// and the next fdatasync would write it too.
    @Test(.enabled(if: geteuid() == 0, "SQLite chowns the WAL only when run as root"))
    func reopeningAStoreLeavesTheWALInodeAlone() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try createStoreWithOneLease(loc)
            let wal = loc.databasePath + "-wal"
            let before = try #require(changeTime(wal))
            usleep(20_000)
            let store = try LeaseStore.open(loc)
            #expect(try store.read { tx throws in try tx.leases() }.count == 1)
            #expect(changeTime(wal) == before, "opening the store changed the WAL's inode")
        }
    }

    @Test func aWriterFindsItsWALToStartTheWriteBack() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            try store.write(lockTimeout: .seconds(5)) { tx throws in
                try tx.insert(sampleLease("10.9.0.1", container: "c1"))
            }
            #expect(holdfast_sqlite3_start_wal_writeback(store.connection.handle) == 0)
        }
    }

    @Test func workWhileSyncingRunsOnlyAfterACommit() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            var ran = 0
            try store.write(lockTimeout: .seconds(5), whileSyncing: { ran += 1 }) { tx throws in
                try tx.insert(sampleLease("10.9.0.1", container: "c1"))
            }
            #expect(ran == 1)
            struct Refused: Error {}
            #expect(throws: Refused.self) {
                try store.write(lockTimeout: .seconds(5), whileSyncing: { ran += 1 }) { _ throws in throw Refused() }
            }
            #expect(ran == 1, "a failed write ran its after-commit work")
        }
    }
}
