import Foundation
import Testing
import Addressing
import IPAM
import CSQLite
@testable import LeaseStore

/// `currencyState` is read from one scan of `meta`, and open finds missing
/// lease triggers by name: these pin down that every part of the stamp still
/// comes from the right row, that the epoch moves for every client's edits,
/// and that a store which lost a trigger gets it back with a new epoch.
@Suite struct CurrencyStateTests {
    @Test func everyPartOfTheStateComesFromItsOwnRow() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            let empty = try store.read { tx throws in try tx.currencyState() }
            #expect(empty == CurrencyState(storeID: nil, generation: 0, leaseEpoch: 0, restored: false))

            try store.write(lockTimeout: .seconds(5)) { tx throws in
                try tx.insert(sampleLease("10.9.0.1", container: "c1"))
                try tx.insert(sampleLease("10.9.0.2", container: "c2"))
                try tx.setMeta(MetaKey.storeID, "s-42")
            }
            let two = try store.read { tx throws in try tx.currencyState() }
            #expect(two == CurrencyState(storeID: "s-42", generation: 1, leaseEpoch: 2, restored: false))

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
            #expect(names == LeaseStore.leaseTriggers)
            let before = try store.read { tx throws in try tx.currencyState() }.leaseEpoch
            try store.write(lockTimeout: .seconds(5)) { tx throws in
                try tx.release(try #require(tx.leases().first), reason: "test", at: .init(timeIntervalSince1970: 0))
            }
            #expect(try store.read { tx throws in try tx.currencyState() }.leaseEpoch == before + 1)
        }
    }

    @Test func anEditByAnotherClientMovesTheEpoch() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try createStoreWithOneLease(loc, "10.9.0.1")
            let store = try LeaseStore.open(loc)
            let before = try store.read { tx throws in try tx.currencyState() }
            do {
                // An operator's `sqlite3 leases.db` edits: one row changed in place,
                // one deleted and another inserted (the number of leases stays 1).
                let raw = try SQLiteConnection(path: loc.databasePath, flags: SQLITE_OPEN_READWRITE)
                try raw.exec("UPDATE leases SET container_id = 'other' WHERE address = '10.9.0.1'")
                try raw.exec("""
                    DELETE FROM leases WHERE address = '10.9.0.1';
                    INSERT INTO leases (address, range_set, container_id, ifname, created_at, state)
                    VALUES ('10.9.0.7', 0, 'by-hand', 'eth0', 0, 'active');
                    """)
            }
            let after = try store.read { tx throws in try tx.currencyState() }
            #expect(after.leaseEpoch == before.leaseEpoch + 3)
            #expect(after.generation == before.generation)
        }
    }

    @Test func editsMadeWhileATriggerWasMissingMoveTheEpochWhenItIsPutBack() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try createStoreWithOneLease(loc, "10.9.0.1")
            let before = try LeaseStore.open(loc).read { tx throws in try tx.currencyState() }
            do {
                // DROP TRIGGER, then a delete the epoch does not see.
                let raw = try SQLiteConnection(path: loc.databasePath, flags: SQLITE_OPEN_READWRITE)
                try raw.exec("DROP TRIGGER leases_epoch_delete; DELETE FROM leases;")
            }
            #expect(try LeaseStore.openReadOnly(loc).read { tx throws in try tx.currencyState() } == before)
            let after = try LeaseStore.open(loc).read { tx throws in try tx.currencyState() }
            #expect(after.leaseEpoch == before.leaseEpoch + 1)
        }
    }
}
