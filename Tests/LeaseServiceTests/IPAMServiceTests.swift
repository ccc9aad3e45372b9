import Foundation
import Addressing
import IPAM
import LeaseStore
import Testing
@testable import LeaseService

/// `IPAMService.allocate`'s steps on a real store in a temporary directory.
@Suite struct IPAMServiceTests {
    let c1 = Addressing.Attachment(containerID: "c1", ifname: "eth0")
    let c2 = Addressing.Attachment(containerID: "c2", ifname: "eth0")

    @Test func retriedAddGetsTheSameLeasesAndRefreshesTheHostSide() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let first = try s.allocate(c1, details: AttachmentDetails(netns: "/run/netns/a"))
            #expect(!first.reused && first.leases.count == 1)
            let again = try s.allocate(c1, details: AttachmentDetails(netns: nil, hostInterface: "veth9", hostIfindex: 9))
            #expect(again.reused)
            #expect(again.leases.map(\.address) == first.leases.map(\.address))
            let stored = try s.leases(for: c1)
            #expect(stored.count == 1 && stored[0].hostInterface == "veth9" && stored[0].hostIfindex == 9)
            #expect(stored[0].netns == "/run/netns/a")
        }
    }

    @Test func liveAddressesAreNeverHandedOut() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            // 10.9.0.0/29: usable .2 ... .6 (gateway .1); .2 and .3 are live elsewhere.
            let live: Set<IPAddress> = [IPAddress("10.9.0.2")!, IPAddress("10.9.0.3")!]
            let a = try s.allocate(c1, details: AttachmentDetails(netns: nil), liveAddresses: { _ in live })
            #expect(a.leases.map(\.address) == [IPAddress("10.9.0.4")!])
        }
    }

    @Test func requestedAddressIsGivenAndATakenOneRefused() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let a = try s.allocate(c1, details: AttachmentDetails(netns: nil), requested: [IPAddress("10.9.0.5")!])
            #expect(a.leases.map(\.address) == [IPAddress("10.9.0.5")!])
            #expect {
                try s.allocate(c2, details: AttachmentDetails(netns: nil), requested: [IPAddress("10.9.0.5")!])
            } throws: { error in
                if case IPAMServiceError.requestedUnavailable = error { return true }
                return false
            }
            #expect(try s.leases(for: c2).isEmpty)
        }
    }

    @Test func requestOutsideEveryRangeIsUnplacedAndNothingIsWritten() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            #expect {
                try s.allocate(c1, details: AttachmentDetails(netns: nil), requested: [IPAddress("192.0.2.1")!])
            } throws: { error in
                if case IPAMServiceError.requestedUnplaced(let a) = error { return a == ["192.0.2.1"] }
                return false
            }
            #expect(try s.leases(for: c1).isEmpty)
        }
    }

    @Test func frozenNetworkRefusesNewAllocationsButNotRetries() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            _ = try s.allocate(c1, details: AttachmentDetails(netns: nil))
            try s.store.write(lockTimeout: .seconds(1)) { try $0.setMeta(MetaKey.frozen, "maintenance") }
            #expect(try s.allocate(c1, details: AttachmentDetails(netns: nil)).reused)
            #expect {
                try s.allocate(c2, details: AttachmentDetails(netns: nil))
            } throws: { error in
                if case IPAMServiceError.frozen(_, let reason) = error { return reason == "maintenance" }
                return false
            }
        }
    }

    @Test func exhaustedRangeSetSaysWhich() throws {
        try withDataDirectory { dir in
            let s = try service(dir, ranges: #"[[{"subnet":"10.9.0.0/30"}]]"#)  // one usable address: .2
            _ = try s.allocate(c1, details: AttachmentDetails(netns: nil))
            #expect {
                try s.allocate(c2, details: AttachmentDetails(netns: nil))
            } throws: { error in
                if case IPAMServiceError.exhausted(_, let index, _) = error { return index == 0 }
                return false
            }
        }
    }

    @Test func roundRobinContinuesAfterTheLastReservation() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let a = try s.allocate(c1, details: AttachmentDetails(netns: nil)).leases[0].address
            _ = try s.release(c1)
            let b = try s.allocate(c2, details: AttachmentDetails(netns: nil)).leases[0].address
            #expect(a == IPAddress("10.9.0.2")! && b == IPAddress("10.9.0.3")!)
        }
    }

    @Test func lockBudgetCountsFromTheRunsStart() throws {
        try withDataDirectory { dir in
            let json = #"{"type":"holdfast-ipam","dataDir":"\#(dir)","ranges":[[{"subnet":"10.9.0.0/29"}]],"lockTimeoutMs":1000}"#
            let config = try IPAMConfig(ipamJSON: Data(json.utf8))
            let fresh = try IPAMService(network: "svc", config: config, started: .now)
            let late = try IPAMService(network: "svc", config: config, started: .now - .milliseconds(600))
            // 1000 ms less a 100 ms reserve, less what the run already spent (at
            // least 20 ms). Only bounds that elapsed time cannot break are asserted.
            #expect(fresh.lockBudget() <= .milliseconds(900))
            #expect(late.lockBudget() <= .milliseconds(300))
            let spent = try IPAMService(network: "svc", config: config, started: .now - .seconds(5))
            #expect(spent.lockBudget() == .milliseconds(20))
        }
    }
}

/// The service's transaction boundary on a real store: what a failing caller
/// or a held lock leaves behind.
@Suite struct IPAMServiceTransactionTests {
    let c1 = Addressing.Attachment(containerID: "c1", ifname: "eth0")

    struct StampFailed: Error {}

    @Test func aThrowingBeforeCommitRollsTheAllocationBack() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            #expect(throws: StampFailed.self) {
                try s.allocate(c1, details: AttachmentDetails(netns: nil), beforeCommit: { _ in throw StampFailed() })
            }
            #expect(try s.leases(for: c1).isEmpty)
            // Round-robin's position was rolled back too: the next ADD gets the first address.
            #expect(try s.allocate(c1, details: AttachmentDetails(netns: nil)).leases.map(\.address) == [IPAddress("10.9.0.2")!])
        }
    }

    @Test func aThrowingBeforeCommitOnReleaseKeepsTheLeases() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            _ = try s.allocate(c1, details: AttachmentDetails(netns: nil))
            #expect(throws: StampFailed.self) {
                try s.release(c1, beforeCommit: { _ in throw StampFailed() })
            }
            #expect(try s.leases(for: c1).count == 1)
        }
    }

    @Test func aHeldLockEndsInLockTimeoutWithinTheBudget() throws {
        try withDataDirectory { dir in
            let s = try service(dir, extra: #","lockTimeoutMs":200"#)
            _ = try s.allocate(c1, details: AttachmentDetails(netns: nil))  // creates the lock file
            // flock belongs to the open file description: a second open in this
            // process conflicts like another plugin process would.
            let fd = open(s.store.location.lockPath, O_RDWR | O_CLOEXEC)
            #expect(fd >= 0)
            defer { close(fd) }
            #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
            let clock = ContinuousClock()
            let start = clock.now
            #expect {
                try s.allocate(Addressing.Attachment(containerID: "c2", ifname: "eth0"), details: AttachmentDetails(netns: nil))
            } throws: { error in
                if case StoreError.lockTimeout(let waited) = error { return waited <= .milliseconds(200) }
                return false
            }
            #expect(clock.now - start < .seconds(2))
            #expect(try s.leases(for: Addressing.Attachment(containerID: "c2", ifname: "eth0")).isEmpty)
        }
    }
}
