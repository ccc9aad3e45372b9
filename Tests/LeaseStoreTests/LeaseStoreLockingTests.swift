import Foundation
import Testing
import Addressing
import IPAM
@testable import LeaseStore

/// Opens `path` as a separate open file description and takes LOCK_EX on it,
/// standing in for another plugin process. Returns the fd; close it to release.
private func holdLock(_ path: String) throws -> Int32 {
    let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw StoreError.io(operation: "open", errno: errno) }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { close(fd); throw StoreError.io(operation: "flock", errno: errno) }
    return fd
}

/// True when someone else holds the flock on `path`.
private func isLockedElsewhere(_ path: String) -> Bool {
    let fd = open(path, O_RDWR | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK
}

@Suite struct LeaseStoreLockingTests {
    @Test func writeTimesOutWhileAnotherDescriptionHoldsTheLock() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            let fd = try holdLock(loc.lockPath)
            defer { close(fd) }
            var ran = false
            let (result, elapsed) = measure {
                Result { () throws -> Void in try store.write(lockTimeout: .milliseconds(300)) { _ in ran = true } }
            }
            #expect(!ran)
            guard case .failure(let error) = result, case StoreError.lockTimeout(let waited)? = error as? StoreError else {
                Issue.record("expected lockTimeout, got \(result)")
                return
            }
            #expect(waited >= .milliseconds(300))
            #expect(elapsed >= .milliseconds(300))
            // Backoff is capped at ~15 ms, so the deadline is overshot only by scheduling noise.
            #expect(elapsed < .milliseconds(1500), "waited \(elapsed) for a 300 ms deadline")
        }
    }

    @Test func writeProceedsOnceTheHolderReleases() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            let fd = try holdLock(loc.lockPath)
            let releaser = Thread { usleep(100_000); close(fd) }
            releaser.start()
            let (_, elapsed) = try measure { try store.write(lockTimeout: .seconds(5)) { try $0.insert(sampleLease("10.0.0.5")) } }
            #expect(elapsed >= .milliseconds(90))
            #expect(elapsed < .seconds(3))
            #expect(try store.read { try $0.leases().count } == 1)
            #expect(!isLockedElsewhere(loc.lockPath)) // write released the lock on return
        }
    }

    @Test func readNeverWaitsForTheWriterLock() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            try store.write(lockTimeout: .seconds(5)) { try $0.insert(sampleLease("10.0.0.5")) }
            let fd = try holdLock(loc.lockPath)
            defer { close(fd) }
            let reader = try LeaseStore.openReadOnly(loc)
            let (count, elapsed) = try measure { try reader.read { try $0.leases().count } }
            #expect(count == 1)
            #expect(try store.read { try $0.lease(at: address("10.0.0.5")) } != nil)
            #expect(elapsed < .milliseconds(500))
        }
    }

    @Test func lockFileIsPrivate() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            try store.write(lockTimeout: .seconds(1)) { _ in }
            var st = stat()
            #expect(stat(loc.lockPath, &st) == 0)
            #expect(st.st_mode & 0o777 == 0o600)
        }
    }

    @Test func sigkilledLockHolderDoesNotBlockTheNextWriter() throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            let store = try LeaseStore.open(loc)
            // --no-fork: the process we kill is the one holding the lock (plain
            // `flock FILE cmd` forks, and its child would keep the lock alive).
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/bin/sh")
            child.arguments = ["-c", "exec flock --no-fork \"$0\" sleep 30", loc.lockPath]
            try child.run()
            let pid = child.processIdentifier
            defer {
                if child.isRunning { kill(pid, SIGKILL); child.waitUntilExit() }
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while !isLockedElsewhere(loc.lockPath), ContinuousClock.now < deadline { usleep(5_000) }
            try #require(isLockedElsewhere(loc.lockPath), "child never took the lock")
            #expect(throws: StoreError.self) { try store.write(lockTimeout: .milliseconds(100)) { _ in } }

            #expect(kill(pid, SIGKILL) == 0)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal)
            let (_, elapsed) = try measure { try store.write(lockTimeout: .seconds(5)) { try $0.insert(sampleLease("10.0.0.5")) } }
            #expect(elapsed < .milliseconds(500), "next writer waited \(elapsed)")
            #expect(try store.read { try $0.leases().count } == 1)
        }
    }
}
