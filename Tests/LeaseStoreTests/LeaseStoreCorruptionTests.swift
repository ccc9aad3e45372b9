import Foundation
import Testing
import Addressing
import IPAM
@testable import LeaseStore

/// Every way a file that is not a healthy Holdfast store must be refused:
/// `StoreError.corrupt` naming the path, and the file byte-for-byte untouched.
@Suite struct LeaseStoreCorruptionTests {
    /// Opens `loc` both ways and checks each is refused as corrupt with the file untouched.
    private func expectRefused(_ loc: StoreLocation, mentioning needle: String? = nil) {
        let before = fileBytes(loc.databasePath)
        for readOnly in [false, true] {
            do {
                _ = readOnly ? try LeaseStore.openReadOnly(loc) : try LeaseStore.open(loc)
                Issue.record("open(readOnly: \(readOnly)) accepted a bad store")
            } catch let StoreError.corrupt(path, detail) {
                #expect(path == loc.databasePath)
                if let needle { #expect(detail.contains(needle), "detail: \(detail)") }
            } catch {
                Issue.record("expected .corrupt, got \(error)")
            }
            #expect(fileBytes(loc.databasePath) == before, "the refused file was modified")
            // Reading a WAL-mode file may create an empty -wal; no frame may be written.
            #expect(((try? Posix.fileSize(loc.databasePath + "-wal")) ?? nil ?? 0) == 0)
        }
    }

    private func prepare(_ dir: String, contents: [UInt8]) throws -> StoreLocation {
        let loc = try location(dir)
        try FileManager.default.createDirectory(atPath: loc.directory, withIntermediateDirectories: true)
        try Data(contents).write(to: URL(fileURLWithPath: loc.databasePath))
        return loc
    }

    @Test(arguments: [4096, 3, 200_000])
    func randomBytes(size: Int) throws {
        try withTemporaryDirectory { dir in
            var rng = SystemRandomNumberGenerator()
            let loc = try prepare(dir, contents: (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) })
            expectRefused(loc, mentioning: "not a SQLite database")
        }
    }

    @Test func truncatedHeader() throws {
        try withTemporaryDirectory { dir in
            let loc = try prepare(dir, contents: Array("SQLite format 3\0".utf8) + [0x10, 0x00])
            expectRefused(loc, mentioning: "truncated")
        }
    }

    @Test func databaseTruncatedToHalf() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            do {
                let store = try LeaseStore.open(loc)
                try store.write(lockTimeout: .seconds(5)) { tx throws in
                    for i in 0..<100 {
                        var lease = sampleLease("10.0.\(i / 200).\(i % 200 + 1)", container: "container-\(i)")
                        lease.netns = String(repeating: "n", count: 200) // spread rows over more pages
                        try tx.insert(lease)
                    }
                }
                try store.checkpoint()
            }
            #expect(((try? Posix.fileSize(loc.databasePath + "-wal")) ?? nil ?? 0) == 0)
            let size = try #require(try Posix.fileSize(loc.databasePath))
            #expect(size >= 4 * 4096)
            #expect(truncate(loc.databasePath, off_t(size / 2)) == 0)
            expectRefused(loc, mentioning: "header describes")
        }
    }

    @Test func foreignSQLiteDatabase() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try FileManager.default.createDirectory(atPath: loc.directory, withIntermediateDirectories: true)
            do {
                let other = try SQLiteConnection(path: loc.databasePath, flags: SQLITE_OPEN_READWRITE_CREATE)
                try other.exec("CREATE TABLE leases (ip TEXT); INSERT INTO leases VALUES ('10.0.0.1');")
            }
            expectRefused(loc, mentioning: "not a Holdfast lease store")
        }
    }

    @Test func foreignApplicationID() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try FileManager.default.createDirectory(atPath: loc.directory, withIntermediateDirectories: true)
            do {
                let other = try SQLiteConnection(path: loc.databasePath, flags: SQLITE_OPEN_READWRITE_CREATE)
                try other.exec("PRAGMA application_id = 1234")
            }
            expectRefused(loc, mentioning: "application_id")
        }
    }

    @Test func newerSchemaVersionIsRefused() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            do {
                let store = try LeaseStore.open(loc)
                try store.connection.exec("PRAGMA user_version = 99")
                try store.checkpoint()
            }
            expectRefused(loc, mentioning: "schema version 99")
        }
    }

    @Test func damagedRowIsReportedAsCorrupt() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            try store.connection.exec("""
                INSERT INTO leases (address, range_set, container_id, ifname, created_at, state)
                VALUES ('not-an-ip', 0, 'c', 'eth0', 0, 'active')
                """)
            #expect(throws: StoreError.self) { try store.read { try $0.leases() } }
            do {
                _ = try store.read { try $0.leases() }
            } catch let StoreError.corrupt(_, detail) {
                #expect(detail.contains("not-an-ip"))
            }
        }
    }

    @Test func verifyPassesOnAHealthyStore() throws {
        try withTemporaryDirectory { dir in
            let store = try LeaseStore.open(try location(dir))
            try store.write(lockTimeout: .seconds(5)) { try $0.insert(sampleLease("10.0.0.5")) }
            try store.verify()
        }
    }
}

/// SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, spelled out so the tests need not import CSQLite.
let SQLITE_OPEN_READWRITE_CREATE: Int32 = 0x0000_0002 | 0x0000_0004
