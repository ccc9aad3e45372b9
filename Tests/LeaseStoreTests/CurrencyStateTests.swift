import Foundation
import Testing
import Addressing
import IPAM
import CSQLite
@testable import LeaseStore

/// `currencyState` is read from a scan of `meta` and a row count, and open
/// finds missing lease-epoch triggers by name: these pin down that every part
/// of the stamp still comes from the right row, and that a store which lost a
/// trigger gets it back.
@Suite struct CurrencyStateTests {
    @Test func everyPartOfTheStateComesFromItsOwnRow() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            let empty = try store.read { tx throws in try tx.currencyState() }
            #expect(empty == CurrencyState(storeID: nil, generation: 0, leaseCount: 0, leaseEpoch: 0, restored: false))

            try store.write(lockTimeout: .seconds(5)) { tx throws in
                try tx.insert(sampleLease("10.9.0.1", container: "c1"))
                try tx.insert(sampleLease("10.9.0.2", container: "c2"))
                try tx.setMeta(MetaKey.storeID, "s-42")
            }
            let two = try store.read { tx throws in try tx.currencyState() }
            #expect(two == CurrencyState(storeID: "s-42", generation: 1, leaseCount: 2, leaseEpoch: 2, restored: false))

            try store.write(lockTimeout: .seconds(5)) { tx throws in
                try tx.setMeta(MetaKey.restoredAt, "1700000000000")
            }
            let restored = try store.read { tx throws in try tx.currencyState() }
            #expect(restored.restored)
            #expect(restored.generation == 2)
            #expect(restored.leaseEpoch == 2)
        }
    }

    @Test func aGenerationThatIsNotANumberIsCorruption() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try createStoreWithOneLease(loc)
            do {
                let raw = try SQLiteConnection(path: loc.databasePath, flags: SQLITE_OPEN_READWRITE)
                try raw.exec("UPDATE meta SET value = 'many' WHERE key = 'generation'")
            }
            let store = try LeaseStore.open(loc)
            #expect(throws: StoreError.self) { try store.read { tx throws in try tx.currencyState() } }
        }
    }

    @Test func aDroppedEpochTriggerIsRecreatedOnOpen() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try createStoreWithOneLease(loc)
            do {
                // An operator's `sqlite3 leases.db 'DROP TRIGGER leases_epoch_delete'`.
                let raw = try SQLiteConnection(path: loc.databasePath, flags: SQLITE_OPEN_READWRITE)
                try raw.exec("DROP TRIGGER leases_epoch_delete")
            }
            let store = try LeaseStore.open(loc)
            var names: Set<String> = []
            try store.connection.query("SELECT name FROM sqlite_master WHERE type = 'trigger'") { stmt in
                if let name = stmt.text(0) { names.insert(name) }
            }
            #expect(names == LeaseStore.leaseEpochTriggers)
            let before = try store.read { tx throws in try tx.currencyState() }.leaseEpoch
            try store.write(lockTimeout: .seconds(5)) { tx throws in
                try tx.release(try #require(tx.leases().first), reason: "test", at: .init(timeIntervalSince1970: 0))
            }
            #expect(try store.read { tx throws in try tx.currencyState() }.leaseEpoch == before + 1)
        }
    }
}
