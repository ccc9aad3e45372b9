import Foundation
import Testing
import Addressing
import IPAM
@testable import LeaseStore

/// The read helpers ipamctl's restore dry run and metrics rely on.
@Suite struct LeaseStoreOperationsTests {
    let timeout: Duration = .seconds(5)

    @Test func openBackupReadsABackupAndRefusesOtherFiles() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir + "/data"))
            try store.write(lockTimeout: timeout) { tx throws in try tx.insert(sampleLease("10.0.0.7")) }
            try store.backup(to: dir + "/b.db")
            let backup = try LeaseStore.openBackup(dir + "/b.db")
            #expect(backup.isReadOnly)
            #expect(try backup.read { try $0.leases().map(\.address) } == [address("10.0.0.7")])
            #expect(throws: StoreError.self) { try backup.write(lockTimeout: timeout) { _ in } }
            #expect(throws: StoreError.missing(path: dir + "/none.db")) { try LeaseStore.openBackup(dir + "/none.db") }
            try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: dir + "/junk.db"))
            #expect { try LeaseStore.openBackup(dir + "/junk.db") } throws: { error in
                if case StoreError.corrupt = error { return true } else { return false }
            }
        }
    }

    @Test func quarantinedAddressesAreTheRecentlyReleasedAndNotReleased() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir + "/data"))
            let t0 = Date(timeIntervalSince1970: 1_700_000_000)
            try store.write(lockTimeout: timeout) { tx throws in
                for a in ["10.0.0.2", "10.0.0.3", "10.0.0.4"] { try tx.insert(sampleLease(a, container: a)) }
                try tx.release(sampleLease("10.0.0.2", container: "10.0.0.2"), reason: "del", at: t0)
                try tx.release(sampleLease("10.0.0.3", container: "10.0.0.3"), reason: "del", at: t0.addingTimeInterval(100))
                // Released, then leased again: not quarantined any more.
                try tx.release(sampleLease("10.0.0.4", container: "10.0.0.4"), reason: "del", at: t0.addingTimeInterval(100))
                try tx.insert(sampleLease("10.0.0.4", container: "again"))
            }
            let q = try store.read { try $0.quarantinedAddresses(now: t0.addingTimeInterval(150), quarantine: .seconds(120)) }
            #expect(q == [address("10.0.0.3")])
            let all = try store.read { try $0.quarantinedAddresses(now: t0.addingTimeInterval(101), quarantine: .seconds(120)) }
            #expect(Set(all) == [address("10.0.0.2"), address("10.0.0.3")])
        }
    }
}
