import Foundation
import Addressing
import IPAM
import LeaseStore
import Testing
@testable import LeaseService

/// `IPAMService`'s allocation and release steps on an in-memory `FakeLedger`:
/// the rules that decide which address an attachment gets, with no SQLite.
/// (The service itself still opens a store in a temporary directory: only the
/// steps are driven through the fake.)
@Suite struct IPAMServiceStepTests {
    let c1 = Addressing.Attachment(containerID: "c1", ifname: "eth0")
    let c2 = Addressing.Attachment(containerID: "c2", ifname: "eth0")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func ip(_ s: String) -> IPAddress { IPAddress(s)! }

    func lease(_ address: String, _ attachment: Addressing.Attachment, set: Int = 0,
               state: LeaseState = .active, hostInterface: String? = nil) -> Lease {
        var l = Lease(address: ip(address), rangeSetIndex: set, containerID: attachment.containerID,
                      ifname: attachment.ifname, netns: nil, createdAt: now, hostInterface: hostInterface)
        l.state = state
        return l
    }

    func allocate(_ s: IPAMService, _ ledger: FakeLedger, _ attachment: Addressing.Attachment,
                  requested: [IPAddress] = [], live: Set<IPAddress> = []) throws -> [Lease] {
        try s.allocateNew(attachment, details: AttachmentDetails(netns: "/run/netns/x"), requested: requested,
                          live: live, rangeSets: s.config.rangeSets, now: now, in: ledger)
    }

    @Test func firstAllocationTakesTheFirstUsableAddressAndRecordsIt() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let ledger = FakeLedger()
            let leases = try allocate(s, ledger, c1)
            #expect(leases.map(\.address) == [ip("10.9.0.2")])  // .1 is the gateway
            #expect(ledger.rows[ip("10.9.0.2")]?.containerID == "c1")
            #expect(ledger.rows[ip("10.9.0.2")]?.netns == "/run/netns/x")
            #expect(ledger.lastReservedBySet[0] == ip("10.9.0.2"))
        }
    }

    @Test func roundRobinStartsAfterTheLastReservationAndWraps() throws {
        try withDataDirectory { dir in
            let s = try service(dir)  // 10.9.0.0/29: usable .2 ... .6
            let ledger = FakeLedger()
            ledger.lastReservedBySet[0] = ip("10.9.0.4")
            #expect(try allocate(s, ledger, c1).map(\.address) == [ip("10.9.0.5")])
            ledger.lastReservedBySet[0] = ip("10.9.0.6")
            #expect(try allocate(s, ledger, c2).map(\.address) == [ip("10.9.0.2")])
        }
    }

    @Test func liveAndTakenAddressesAreSkipped() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let ledger = FakeLedger([lease("10.9.0.2", c2)])
            let leases = try allocate(s, ledger, c1, live: [ip("10.9.0.3")])
            #expect(leases.map(\.address) == [ip("10.9.0.4")])
        }
    }

    @Test func aQuarantinedAddressIsUsedOnlyWhenNothingElseIsFree() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let ledger = FakeLedger()
            ledger.releasedAt[ip("10.9.0.2")] = now  // released just now: quarantined
            #expect(try allocate(s, ledger, c1).map(\.address) == [ip("10.9.0.3")])

            let tiny = try service(dir, ranges: #"[[{"subnet":"10.9.0.0/30"}]]"#)  // one usable address: .2
            let full = FakeLedger()
            full.releasedAt[ip("10.9.0.2")] = now
            #expect(try allocate(tiny, full, c1).map(\.address) == [ip("10.9.0.2")])
            #expect(full.releasedAt[ip("10.9.0.2")] == nil)  // insert clears the stamp
        }
    }

    @Test func exhaustionNamesTheRangeSetAndInsertsNothing() throws {
        try withDataDirectory { dir in
            let s = try service(dir, ranges: #"[[{"subnet":"10.9.0.0/30"}]]"#)
            let ledger = FakeLedger([lease("10.9.0.2", c2)])
            #expect {
                try allocate(s, ledger, c1)
            } throws: { error in
                if case IPAMServiceError.exhausted(let network, let index, _) = error { return network == "svc" && index == 0 }
                return false
            }
            #expect(ledger.rows.count == 1 && ledger.lastReservedBySet.isEmpty)
        }
    }

    @Test func dualStackGetsOneLeasePerRangeSetInOrder() throws {
        try withDataDirectory { dir in
            let s = try service(dir, ranges: #"[[{"subnet":"10.9.0.0/29"}],[{"subnet":"fd00:9::/120"}]]"#)
            let ledger = FakeLedger()
            let leases = try allocate(s, ledger, c1)
            #expect(leases.map(\.rangeSetIndex) == [0, 1])
            #expect(leases.map(\.address) == [ip("10.9.0.2"), ip("fd00:9::2")])
            #expect(ledger.lastReservedBySet == [0: ip("10.9.0.2"), 1: ip("fd00:9::2")])
        }
    }

    @Test func requestedAddressesArePlacedTakenOnesRefusedStrayOnesUnplaced() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let ledger = FakeLedger([lease("10.9.0.5", c2)])
            #expect(try allocate(s, ledger, c1, requested: [ip("10.9.0.6")]).map(\.address) == [ip("10.9.0.6")])
            #expect(ledger.lastReservedBySet.isEmpty)  // a request does not move round-robin
            #expect {
                try allocate(s, ledger, Addressing.Attachment(containerID: "c3", ifname: "eth0"), requested: [ip("10.9.0.5")])
            } throws: { error in
                if case IPAMServiceError.requestedUnavailable(let a, _) = error { return a == "10.9.0.5" }
                return false
            }
            #expect {
                try allocate(s, ledger, Addressing.Attachment(containerID: "c4", ifname: "eth0"), requested: [ip("192.0.2.1")])
            } throws: { error in
                if case IPAMServiceError.requestedUnplaced(let a) = error { return a == ["192.0.2.1"] }
                return false
            }
        }
    }

    @Test func retriedAddReusesActiveLeasesAndRewritesOnlyWhatChanged() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let ledger = FakeLedger([lease("10.9.0.3", c1, hostInterface: "veth1")])
            let same = try s.reuseExisting(c1, details: AttachmentDetails(netns: nil), in: ledger)
            #expect(same?.reused == true && same?.leases.map(\.address) == [ip("10.9.0.3")])
            #expect(ledger.updates == 0)
            let moved = try s.reuseExisting(c1, details: AttachmentDetails(netns: nil, hostInterface: "veth2", hostIfindex: 7),
                                            in: ledger)
            #expect(moved?.leases.first?.hostInterface == "veth2")
            #expect(ledger.rows[ip("10.9.0.3")]?.hostIfindex == 7 && ledger.updates == 1)
            #expect(try s.reuseExisting(c2, details: AttachmentDetails(netns: nil), in: ledger) == nil)
        }
    }

    @Test func aLeasePendingReleaseIsNotReused() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let ledger = FakeLedger([lease("10.9.0.3", c1, state: .pendingRelease)])
            #expect(try s.reuseExisting(c1, details: AttachmentDetails(netns: nil), in: ledger) == nil)
        }
    }

    @Test func releaseEndsTheAttachmentsLeasesAndQuarantinesThem() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let ledger = FakeLedger([lease("10.9.0.2", c1), lease("10.9.0.3", c2)])
            let released = try s.releaseLeases(c1, hostInterface: nil, reason: "del", now: now, in: ledger)
            #expect(released.map(\.address) == [ip("10.9.0.2")])
            #expect(ledger.rows.keys.sorted() == [ip("10.9.0.3")])
            #expect(ledger.history.map(\.reason) == ["del"] && ledger.releasedAt[ip("10.9.0.2")] == now)
            // Idempotent: a second DEL finds nothing and changes nothing.
            #expect(try s.releaseLeases(c1, hostInterface: nil, reason: "del", now: now, in: ledger).isEmpty)
            #expect(ledger.history.count == 1)
        }
    }

    @Test func releaseFallsBackToTheHostInterfaceForAdoptedLeases() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let adopted = Addressing.Attachment(containerID: IPAMService.adoptedPrefix + "veth7", ifname: "eth0")
            let ledger = FakeLedger([lease("10.9.0.4", adopted, hostInterface: "veth7")])
            #expect(try s.releaseLeases(c1, hostInterface: "veth8", reason: "del", now: now, in: ledger).isEmpty)
            let released = try s.releaseLeases(c1, hostInterface: "veth7", reason: "del", now: now, in: ledger)
            #expect(released.map(\.address) == [ip("10.9.0.4")] && ledger.rows.isEmpty)
        }
    }

    @Test func releaseWhileFrozenOnlyMarksLeasesPending() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            let ledger = FakeLedger([lease("10.9.0.2", c1)])
            ledger.metaValues[MetaKey.frozen] = "maintenance"
            let marked = try s.releaseLeases(c1, hostInterface: nil, reason: "del", now: now, in: ledger)
            #expect(marked.map(\.address) == [ip("10.9.0.2")])  // returned as found (the caller's rollback record)
            #expect(ledger.rows[ip("10.9.0.2")]?.state == .pendingRelease)
            #expect(ledger.history.isEmpty && ledger.releasedAt.isEmpty)
        }
    }
}
