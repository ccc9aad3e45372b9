import Foundation
import Testing
import Addressing
import IPAM
import CSQLite
@testable import LeaseStore

/// Open skips `PRAGMA journal_mode = WAL` when the file's header already says
/// WAL; these pin down that the header is read right and that a store someone
/// switched back to a rollback journal is still put in WAL mode.
@Suite struct JournalModeTests {
    private func journalMode(_ store: LeaseStore) throws -> String? {
        try store.connection.scalarText("PRAGMA journal_mode")
    }

    @Test func aStoreIsInWALModeFromItsFirstOpenAndItsHeaderSaysSo() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            do {
                let store = try LeaseStore.open(loc)
                #expect(try journalMode(store) == "wal")
            }
            #expect(try LeaseStore.inspectHeader(loc.databasePath).isWriteAheadLogged)
            let reopened = try LeaseStore.open(loc)
            #expect(try journalMode(reopened) == "wal")
            try reopened.write(lockTimeout: .seconds(5)) { tx throws in
                try tx.insert(sampleLease("10.9.0.1", container: "c1"))
            }
            #expect(FileManager.default.fileExists(atPath: loc.databasePath + "-wal"))
        }
    }

    @Test func aStoreSwitchedToARollbackJournalIsSwitchedBackOnOpen() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try createStoreWithOneLease(loc)
            do {
                // What an operator's `sqlite3 leases.db 'PRAGMA journal_mode=DELETE'` does.
                let raw = try SQLiteConnection(path: loc.databasePath, flags: SQLITE_OPEN_READWRITE)
                #expect(try raw.scalarText("PRAGMA journal_mode = DELETE") == "delete")
            }
            #expect(try !LeaseStore.inspectHeader(loc.databasePath).isWriteAheadLogged)
            let store = try LeaseStore.open(loc)
            #expect(try journalMode(store) == "wal")
            #expect(try store.read { tx throws in try tx.leases() }.count == 1)
            #expect(try LeaseStore.inspectHeader(loc.databasePath).isWriteAheadLogged)
        }
    }

    @Test func aNewFileIsNotReportedAsWAL() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/empty.db"
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            let header = try LeaseStore.inspectHeader(path)
            #expect(!header.isWriteAheadLogged)
            #expect(header.suspicion == nil)
        }
    }
}
