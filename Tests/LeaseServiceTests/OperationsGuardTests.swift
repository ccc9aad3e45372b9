import Foundation
import Addressing
import Glibc
import LeaseStore
import Testing
@testable import LeaseService

/// The flood guards and the destructive guard's arithmetic.
@Suite struct OperationsGuardTests {
    @Test func tokenBucketAllowsTheBurstThenRefillsWithTime() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let limit = RateLimit(perSecond: 2, burst: 2)
            let t0 = Date(timeIntervalSince1970: 1_800_000_000)
            func take(_ at: Date) throws { try s.store.write(lockTimeout: .seconds(1)) { try RateLimiter.take($0, limit, network: "svc", now: at) } }
            try take(t0)
            try take(t0)
            #expect {
                try take(t0)
            } throws: { error in
                if case OperationsError.rateLimited(_, _, let retry) = error { return retry == 500 }
                return false
            }
            // Half a second later one token is back, and only one.
            try take(t0 + 0.5)
            #expect(throws: OperationsError.self) { try take(t0 + 0.5) }
        }
    }

    @Test func clockSteppingBackwardsRefillsNothing() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let limit = RateLimit(perSecond: 1, burst: 1)
            let t0 = Date(timeIntervalSince1970: 1_800_000_000)
            func take(_ at: Date) throws { try s.store.write(lockTimeout: .seconds(1)) { try RateLimiter.take($0, limit, network: "svc", now: at) } }
            try take(t0)
            #expect(throws: OperationsError.self) { try take(t0 - 60) }
            #expect(throws: OperationsError.self) { try take(t0 + 0.5) }
            try take(t0 + 1)
        }
    }

    @Test func noLimitTouchesNoRow() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            try s.store.write(lockTimeout: .seconds(1)) { try RateLimiter.take($0, nil, network: "svc", now: Date()) }
            #expect(try s.store.read { try $0.meta(.rateTokens) } == nil)
        }
    }

    @Test func waiterSlotsCapTheQueueAndAClosedSlotIsFreeAgain() throws {
        try withDataDirectory { dir in
            let a = try #require(try WaiterSlots.acquire(directory: dir, max: 2, network: "svc"))
            let b = try #require(try WaiterSlots.acquire(directory: dir, max: 2, network: "svc"))
            #expect {
                _ = try WaiterSlots.acquire(directory: dir, max: 2, network: "svc")
            } throws: { error in
                if case OperationsError.tooManyWaiters(_, let max) = error { return max == 2 }
                return false
            }
            a.closeQuietly()
            let c = try #require(try WaiterSlots.acquire(directory: dir, max: 2, network: "svc"))
            b.closeQuietly()
            c.closeQuietly()
        }
    }

    @Test func waiterSlotsDisabledOrUnusableDoNotBlock() throws {
        #expect(try WaiterSlots.acquire(directory: "/tmp", max: 0, network: "svc") == nil)
        // A directory that cannot exist: the cap is disabled for this call, not a failure.
        #expect(try WaiterSlots.acquire(directory: "/proc/holdfast-no-such-\(getpid())", max: 2, network: "svc") == nil)
    }

    struct RadiusCase: Sendable, CustomTestStringConvertible {
        var live: Int, releasing: Int, allowed: Bool
        var testDescription: String { "\(releasing) of \(live) -> \(allowed)" }
    }

    @Test(arguments: [
        RadiusCase(live: 1, releasing: 1, allowed: true),     // one named lease is always allowed
        RadiusCase(live: 3, releasing: 2, allowed: false),    // 25% of 3 rounds to 0, floor 1
        RadiusCase(live: 8, releasing: 2, allowed: true),     // 25% of 8 = 2
        RadiusCase(live: 8, releasing: 3, allowed: false),
        RadiusCase(live: 1000, releasing: 10, allowed: true), // the count caps it
        RadiusCase(live: 1000, releasing: 11, allowed: false),
    ])
    func blastRadius(_ c: RadiusCase) {
        let radius = BlastRadius()
        let allowed = (try? radius.check(releasing: c.releasing, of: c.live, force: false, action: "t")) != nil
        #expect(allowed == c.allowed)
        #expect((try? radius.check(releasing: c.releasing, of: c.live, force: true, action: "t")) != nil)
    }

    @Test func destructiveGuardBacksUpBeforeItActsAndAudits() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            _ = try s.allocate(Addressing.Attachment(containerID: "c1", ifname: "eth0"), details: AttachmentDetails(netns: nil))
            let (released, backup) = try s.store.write(lockTimeout: .seconds(1)) { txn in
                try DestructiveGuard.run(in: txn, location: s.store.location, action: "test", releasing: 1, live: 1,
                                         radius: BlastRadius(), force: false, actor: AuditActor.current(process: "unit-test"), detail: "unit test",
                                         at: Date()) { () -> Int in
                    let leases = try txn.leases()
                    for lease in leases { try txn.release(lease, reason: "test", at: Date()) }
                    return leases.count
                }
            }
            #expect(released == 1)
            #expect(FileManager.default.fileExists(atPath: backup))
            // The backup holds the state before the release.
            let copy = try LeaseStore.openBackup(backup)
            #expect(try copy.read { try $0.leases() }.count == 1)
            #expect(try s.store.read { try $0.leases() }.isEmpty)
        }
    }
}
