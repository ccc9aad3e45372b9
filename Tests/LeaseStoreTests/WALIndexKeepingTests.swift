import Foundation
import Testing
import Addressing
import IPAM
@testable import LeaseStore

/// The WAL index (-shm) is kept from one open to the next only when it is
/// provably current (ShmTrust.c); every other case resets and rebuilds it from
/// the WAL, as SQLite always did. Whether an open kept or reset it is read off
/// the marker beside the -shm, which only a reset rewrites.
@Suite struct WALIndexKeepingTests {
    private func addLeases(_ loc: StoreLocation, _ range: Range<Int>) throws {
        for i in range {
            let store = try LeaseStore.open(loc)
            try store.write(lockTimeout: .seconds(5)) { tx throws in
                try tx.insert(sampleLease("10.9.\(i / 200).\(i % 200 + 1)", container: "c\(i)"))
            }
        }
    }

    private func containers(_ loc: StoreLocation) throws -> Set<String> {
        let store = try LeaseStore.open(loc)
        return Set(try store.read { tx throws in try tx.leases() }.map(\.containerID))
    }

    private func marker(_ loc: StoreLocation) -> String { loc.databasePath + "-shm.boot" }

    /// The marker's modification time in nanoseconds (nil when absent).
    private func markerStamp(_ loc: StoreLocation) -> Int? {
        var st = stat()
        guard stat(marker(loc), &st) == 0 else { return nil }
        return st.st_mtim.tv_sec * 1_000_000_000 + st.st_mtim.tv_nsec
    }

    private func bootID() throws -> String {
        try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func expectReset(_ loc: StoreLocation, since stamp: Int?) throws {
        #expect(markerStamp(loc) != stamp, "the index was kept")
        let text = try String(contentsOfFile: marker(loc), encoding: .utf8)
        #expect(text.hasPrefix(try bootID() + " "), "marker: \(text)")
    }

    @Test func aCurrentIndexIsKeptAndSeesEveryCommit() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try addLeases(loc, 0..<3)
            let stamp = markerStamp(loc)
            #expect(stamp != nil, "the first open writes the marker")
            usleep(20_000)
            try addLeases(loc, 3..<6)
            #expect(markerStamp(loc) == stamp, "a later open reset an index that was current")
            #expect(try containers(loc) == Set((0..<6).map { "c\($0)" }))
        }
    }

    @Test func anIndexFromAnotherBootIsRebuilt() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try addLeases(loc, 0..<3)
            let text = try String(contentsOfFile: marker(loc), encoding: .utf8)
            let inode = text.split(separator: " ").last ?? ""
            try "00000000-0000-0000-0000-000000000000 \(inode)".write(toFile: marker(loc), atomically: false, encoding: .utf8)
            let stamp = markerStamp(loc)
            usleep(20_000)
            #expect(try containers(loc) == ["c0", "c1", "c2"])
            try expectReset(loc, since: stamp)
        }
    }

    @Test func aWALShorterThanTheIndexIsRecovered() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try addLeases(loc, 0..<3)
            let wal = loc.databasePath + "-wal"
            let early = try #require(fileBytes(wal))
            try addLeases(loc, 3..<6)
            // The WAL as it was after three commits, the index as it is after six.
            let handle = try #require(FileHandle(forWritingAtPath: wal))
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data(early))
            try handle.close()
            let stamp = markerStamp(loc)
            usleep(20_000)
            #expect(try containers(loc) == ["c0", "c1", "c2"])
            try expectReset(loc, since: stamp)
        }
    }

    @Test func anIndexBehindTheWALIsRecovered() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            try addLeases(loc, 0..<3)
            let shm = loc.databasePath + "-shm"
            let early = try #require(fileBytes(shm))
            try addLeases(loc, 3..<6)
            // The index as it was after three commits, the WAL as it is after six:
            // trusting it would hide three committed leases.
            let handle = try #require(FileHandle(forWritingAtPath: shm))
            try handle.write(contentsOf: Data(early))
            try handle.close()
            let stamp = markerStamp(loc)
            usleep(20_000)
            #expect(try containers(loc) == Set((0..<6).map { "c\($0)" }))
            try expectReset(loc, since: stamp)
        }
    }

    @Test func theWALRestartsInPlaceAcrossProcessesWorthOfOpens() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            // Each open is a new connection with no other open, as a plugin run is.
            try addLeases(loc, 0..<150)
            let size = try #require(try Posix.fileSize(loc.databasePath + "-wal"))
            // Without restarts the log would reach twice the checkpoint bound
            // before being truncated; restarted in place, it stays near the bound.
            let frame = Int64(4096 + 24)
            #expect(size <= 32 + frame * Int64(LeaseStore.walCheckpointFrames + 16), "WAL is \(size) bytes")
            #expect(size > 32 + frame * Int64(LeaseStore.walCheckpointFrames / 2), "WAL is \(size) bytes: it was truncated")
            #expect(try containers(loc).count == 150)
        }
    }
}
