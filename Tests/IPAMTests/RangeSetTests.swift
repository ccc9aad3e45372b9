import Testing
import Addressing
@testable import IPAM

@Suite("RangeSet validation")
struct RangeSetTests {
    @Test func emptyIsRejected() {
        #expect(throws: IPAMError.self) { try RangeSet([]) }
    }

    @Test func mixedFamiliesRejected() throws {
        let v4 = try range("10.0.0.0/24"), v6 = try range("fd00::/64")
        #expect {
            try RangeSet([v4, v6])
        } throws: { e in
            guard case IPAMError.mixedFamilies(let m) = e else { return false }
            return m.contains("10.0.0.0/24") && m.contains("fd00::/64")
        }
    }

    struct Pair: Sendable, CustomStringConvertible {
        let a: [String?], b: [String?], overlaps: Bool
        var description: String { "\(a) vs \(b)" }
    }

    @Test(arguments: [
        Pair(a: ["10.0.0.0/24", nil, nil], b: ["10.0.1.0/24", nil, nil], overlaps: false),
        Pair(a: ["10.0.0.0/24", nil, nil], b: ["10.0.0.0/24", nil, nil], overlaps: true),
        Pair(a: ["10.0.0.0/20", nil, nil], b: ["10.0.1.0/24", nil, nil], overlaps: true),
        Pair(a: ["10.0.0.0/24", nil, "10.0.0.127"], b: ["10.0.0.0/24", "10.0.0.128", nil], overlaps: false),
        Pair(a: ["10.0.0.0/24", nil, "10.0.0.127"], b: ["10.0.0.0/24", "10.0.0.127", nil], overlaps: true),
    ])
    func overlapDetection(_ c: Pair) throws {
        let a = try range(c.a[0]!, c.a[1], c.a[2]), b = try range(c.b[0]!, c.b[1], c.b[2])
        #expect(a.overlaps(b) == c.overlaps)
        #expect(b.overlaps(a) == c.overlaps)
        if c.overlaps {
            #expect {
                try RangeSet([a, b])
            } throws: { e in
                guard case IPAMError.overlappingRanges(let m) = e else { return false }
                return m.contains(a.description) && m.contains(b.description)
            }
        } else {
            let s = try RangeSet([a, b])
            #expect(s.ranges == [a, b])
            #expect(!(try RangeSet([a])).overlaps(try RangeSet([b])))
        }
        #expect(try RangeSet([a]).overlaps(try RangeSet([b])) == c.overlaps)
    }

    @Test func differentFamiliesNeverOverlap() throws {
        let a = try RangeSet([range("0.0.0.0/24")]), b = try RangeSet([range("::/24")])
        #expect(!a.overlaps(b))
    }

    @Test func rangeContaining() throws {
        let r1 = try range("10.0.0.0/24", "10.0.0.10", "10.0.0.20"), r2 = try range("10.0.5.0/24")
        let s = try RangeSet([r1, r2])
        #expect(s.range(containing: ip("10.0.0.15")) == r1)
        #expect(s.range(containing: ip("10.0.5.200")) == r2)
        #expect(s.range(containing: ip("10.0.0.21")) == nil)
        #expect(s.range(containing: ip("10.0.0.1")) == nil)
        #expect(s.range(containing: ip("fd00::1")) == nil)
        #expect(s.capacity == 11 + 253)
    }

    @Test func codableAsArray() throws {
        let s = try JSONDecoderShim.decode(RangeSet.self, #"[{"subnet":"10.0.0.0/24"},{"subnet":"10.0.1.0/24","gateway":"10.0.1.254"}]"#)
        #expect(s.ranges.count == 2)
        #expect(s.ranges[1].gateway == ip("10.0.1.254"))
        #expect(try JSONDecoderShim.decode(RangeSet.self, JSONDecoderShim.encode(s)) == s)
        #expect(throws: (any Error).self) {
            try JSONDecoderShim.decode(RangeSet.self, #"[{"subnet":"10.0.0.0/24"},{"subnet":"10.0.0.0/25"}]"#)
        }
        #expect(throws: (any Error).self) { try JSONDecoderShim.decode(RangeSet.self, "[]") }
    }
}
