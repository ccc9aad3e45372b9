import Testing
import Addressing
@testable import IPAM

@Suite("Allocator: round-robin")
struct AllocatorRoundRobinTests {
    @Test func neverReturnsNetworkBroadcastOrGateway() throws {
        // Bounds deliberately include the network and broadcast addresses.
        let r = try range("10.0.0.16/28", "10.0.0.16", "10.0.0.31", gw: "10.0.0.20")
        let set = try RangeSet([r])
        var pool = FakePool()
        var got: [IPAddress] = []
        var last: IPAddress?
        while true {
            let a: IPAddress
            do { (a, _) = try Allocator.allocate(in: set, after: last) { pool.availability($0) } } catch IPAMError.exhausted { break }
            got.append(a)
            pool.state[a] = .taken
            last = a
        }
        let expected = (17...30).filter { $0 != 20 }.map { ip("10.0.0.\($0)") }
        #expect(got == expected)
        #expect(UInt64(got.count) == r.capacity)
    }

    struct Start: Sendable, CustomStringConvertible {
        let last: String?, expected: String
        var description: String { "after \(last ?? "nil")" }
    }

    @Test(arguments: [
        Start(last: nil, expected: "10.0.0.2"),           // rangeStart .1 is the gateway: skipped
        Start(last: "10.0.0.5", expected: "10.0.0.6"),
        Start(last: "10.0.0.253", expected: "10.0.0.254"),
        Start(last: "10.0.0.254", expected: "10.0.0.2"),   // wraps around
        Start(last: "10.0.9.9", expected: "10.0.0.2"),     // not in the set: first range's start
        Start(last: "fd00::5", expected: "10.0.0.2"),
    ])
    func startsAfterLastReserved(_ c: Start) throws {
        let set = try RangeSet([range("10.0.0.0/24")])
        let (a, r) = try Allocator.allocate(in: set, after: c.last.map(ip)) { _ in .free }
        #expect(a == ip(c.expected))
        #expect(r == set.ranges[0])
    }

    @Test func walksAcrossRangesInOrderAndWraps() throws {
        let r0 = try range("10.0.0.0/24", "10.0.0.10", "10.0.0.12")
        let r1 = try range("10.0.1.0/24", "10.0.1.100", "10.0.1.101")
        let set = try RangeSet([r0, r1])
        var pool = FakePool()
        pool.state = [ip("10.0.0.10"): .taken, ip("10.0.0.11"): .taken]
        // From the end of range 0 into range 1.
        var (a, r) = try Allocator.allocate(in: set, after: ip("10.0.0.12")) { pool.availability($0) }
        #expect(a == ip("10.0.1.100") && r == r1)
        // From the end of range 1 wrapping to range 0, skipping taken addresses.
        (a, r) = try Allocator.allocate(in: set, after: ip("10.0.1.101")) { pool.availability($0) }
        #expect(a == ip("10.0.0.12") && r == r0)
        #expect(pool.asked.suffix(3) == [ip("10.0.0.10"), ip("10.0.0.11"), ip("10.0.0.12")])
    }

    @Test func visitsEachAddressOnceThenExhausts() throws {
        let set = try RangeSet([range("10.0.0.0/24", "10.0.0.10", "10.0.0.20"), range("10.0.1.0/29")])
        var pool = FakePool()
        #expect {
            try Allocator.allocate(in: set, after: ip("10.0.0.15")) { a in
                _ = pool.availability(a)
                return .taken
            }
        } throws: { e in
            guard case IPAMError.exhausted(let m) = e else { return false }
            return m.contains("no IP addresses available") && !m.contains("capped")
        }
        #expect(pool.asked.count == Set(pool.asked).count)
        #expect(UInt64(pool.asked.count) == set.capacity)
        #expect(pool.asked.first == ip("10.0.0.16"))
        #expect(pool.asked.last == ip("10.0.0.15"))
    }

    @Test func ipv6Slash120() throws {
        let set = try RangeSet([range("fd00::/120")])
        let (a, _) = try Allocator.allocate(in: set, after: nil) { _ in .free }
        #expect(a == ip("fd00::2"))
        let (b, _) = try Allocator.allocate(in: set, after: ip("fd00::fe")) { _ in .free }
        #expect(b == ip("fd00::ff"))   // IPv6 upper is allocatable
        let (c, _) = try Allocator.allocate(in: set, after: ip("fd00::ff")) { _ in .free }
        #expect(c == ip("fd00::2"))
    }

    @Test func topOfAddressSpaceDoesNotOverflow() throws {
        let set = try RangeSet([range("255.255.255.0/24", "255.255.255.250", "255.255.255.255")])
        let (a, _) = try Allocator.allocate(in: set, after: ip("255.255.255.254")) { _ in .free }
        #expect(a == ip("255.255.255.250"))
        let v6 = try RangeSet([range("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120")])
        let (b, _) = try Allocator.allocate(in: v6, after: ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")) { _ in .free }
        #expect(b == ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff02"))
    }

    struct StoreDown: Error, Equatable {}

    @Test func availabilityErrorsAreRethrown() throws {
        let set = try RangeSet([range("10.0.0.0/24")])
        #expect(throws: StoreDown()) {
            try Allocator.allocate(in: set, after: nil) { _ in throw StoreDown() }
        }
        #expect(throws: StoreDown()) {
            try Allocator.allocate(requested: ip("10.0.0.9"), in: set) { _ in throw StoreDown() }
        }
    }
}

@Suite("Allocator: quarantine")
struct AllocatorQuarantineTests {
    @Test func freeIsPreferredOverEarlierQuarantined() throws {
        let set = try RangeSet([range("10.0.0.0/24")])
        var pool = FakePool()
        for i in 2...200 { pool.state[ip("10.0.0.\(i)")] = .quarantined }
        let (a, _) = try Allocator.allocate(in: set, after: nil) { pool.availability($0) }
        #expect(a == ip("10.0.0.201"))
    }

    @Test func quarantinedOnlyWhenNothingIsFree() throws {
        let set = try RangeSet([range("10.0.0.0/29")])   // .2 ... .6 allocatable
        var pool = FakePool()
        pool.state = [ip("10.0.0.2"): .quarantined, ip("10.0.0.3"): .taken, ip("10.0.0.4"): .quarantined,
                      ip("10.0.0.5"): .taken, ip("10.0.0.6"): .taken]
        // Walk starts after .3: .4 is the first quarantined seen, not .2.
        let (a, _) = try Allocator.allocate(in: set, after: ip("10.0.0.3")) { pool.availability($0) }
        #expect(a == ip("10.0.0.4"))
        #expect(Set(pool.asked).count == 5)   // the whole pool was checked for a free one first
        pool.state[ip("10.0.0.6")] = .free
        let (b, _) = try Allocator.allocate(in: set, after: ip("10.0.0.3")) { pool.availability($0) }
        #expect(b == ip("10.0.0.6"))
    }
}

@Suite("Allocator: requested address")
struct AllocatorRequestedTests {
    struct Case: Sendable, CustomStringConvertible {
        let address: String, state: String, outcome: String
        var description: String { "\(address) \(state)" }
    }

    static let set = try! RangeSet([range("10.0.0.0/24", "10.0.0.0", "10.0.0.255"),
                                    range("10.0.1.0/24", "10.0.1.50", "10.0.1.60")])

    @Test(arguments: [
        Case(address: "10.0.0.9", state: "free", outcome: "ok"),
        Case(address: "10.0.1.55", state: "free", outcome: "ok"),
        Case(address: "10.0.0.9", state: "quarantined", outcome: "ok"),
        Case(address: "10.0.0.9", state: "taken", outcome: "already allocated"),
        Case(address: "10.0.0.1", state: "free", outcome: "is the gateway"),
        Case(address: "10.0.0.0", state: "free", outcome: "is the network address"),
        Case(address: "10.0.0.255", state: "free", outcome: "is the broadcast address"),
        Case(address: "10.0.1.61", state: "free", outcome: "out"),
        Case(address: "10.0.2.5", state: "free", outcome: "out"),
        Case(address: "fd00::5", state: "free", outcome: "out"),
    ])
    func requested(_ c: Case) throws {
        let state: Availability = c.state == "free" ? .free : c.state == "taken" ? .taken : .quarantined
        let call = { try Allocator.allocate(requested: ip(c.address), in: Self.set) { _ in state } }
        switch c.outcome {
        case "ok":
            let (a, r) = try call()
            #expect(a == ip(c.address))
            #expect(r.contains(a))
        case "out":
            #expect { try call() } throws: { e in
                guard case IPAMError.requestedOutOfRange(let m) = e else { return false }
                return m.contains(c.address)
            }
        default:
            #expect { try call() } throws: { e in
                guard case IPAMError.requestedUnavailable(let m) = e else { return false }
                return m.contains(c.address) && m.contains(c.outcome)
            }
        }
    }
}

@Suite("Allocator: large pools stay lazy and bounded")
struct AllocatorScaleTests {
    @Test func slash16With60000TakenIsFastAndCorrect() throws {
        let set = try RangeSet([range("10.0.0.0/16")])
        let base = ip("10.0.0.0")
        // Offsets 2...60001 are taken (offset 1 is the gateway).
        var taken = Set<IPAddress>()
        for i in Int64(2)...60001 { taken.insert(base.advanced(by: i)!) }
        // The cost is asserted as a probe count, not wall-clock time (benchmarks
        // measure time): one probe per taken address, none more.
        var probes = 0
        let result = try Allocator.allocate(in: set, after: nil) { a in
            probes += 1
            return taken.contains(a) ? .taken : .free
        }
        #expect(result.0 == ip("10.0.234.98"))   // offset 60002
        #expect(probes == 60001)
        // Round-robin from the middle wraps past the taken block to the same answer.
        let (b, _) = try Allocator.allocate(in: set, after: ip("10.0.255.254")) { taken.contains($0) ? .taken : .free }
        #expect(b == ip("10.0.234.98"))
    }

    @Test func slash64ScanIsCapped() throws {
        let set = try RangeSet([range("fd00::/64")])
        var probes = 0
        #expect {
            try Allocator.allocate(in: set, after: nil) { _ in probes += 1; return .taken }
        } throws: { e in
            guard case IPAMError.exhausted(let m) = e else { return false }
            return m.contains("capped") && m.contains("\(Allocator.maxProbes)")
        }
        // Bounded work, asserted as a count rather than a wall-clock time.
        #expect(probes == Allocator.maxProbes)
    }

    @Test func cappedScanStillReturnsAQuarantinedAddress() throws {
        let set = try RangeSet([range("fd00::/64")])
        let q = ip("fd00::7")
        let (a, _) = try Allocator.allocate(in: set, after: nil) { $0 == q ? .quarantined : .taken }
        #expect(a == q)
    }
}
