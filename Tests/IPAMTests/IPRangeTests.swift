import Testing
import Addressing
@testable import IPAM

@Suite("IPRange canonicalisation and validation")
struct IPRangeTests {
    struct Defaults: Sendable, CustomStringConvertible {
        let subnet: String, canonical: String, start: String, end: String, gateway: String, capacity: UInt64
        var description: String { subnet }
    }

    @Test(arguments: [
        Defaults(subnet: "10.0.0.0/24", canonical: "10.0.0.0/24", start: "10.0.0.1", end: "10.0.0.254", gateway: "10.0.0.1", capacity: 253),
        // Host bits are masked, like host-local used to.
        Defaults(subnet: "10.22.7.9/16", canonical: "10.22.0.0/16", start: "10.22.0.1", end: "10.22.255.254", gateway: "10.22.0.1", capacity: 65533),
        Defaults(subnet: "192.0.2.0/25", canonical: "192.0.2.0/25", start: "192.0.2.1", end: "192.0.2.126", gateway: "192.0.2.1", capacity: 125),
        // /30: the smallest IPv4 subnet host-local accepts; .1 gateway, .2 the only host.
        Defaults(subnet: "10.0.0.4/30", canonical: "10.0.0.4/30", start: "10.0.0.5", end: "10.0.0.6", gateway: "10.0.0.5", capacity: 1),
        // IPv6 has no broadcast: rangeEnd is the last address of the prefix.
        Defaults(subnet: "2001:db8:1::/64", canonical: "2001:db8:1::/64", start: "2001:db8:1::1", end: "2001:db8:1::ffff:ffff:ffff:ffff", gateway: "2001:db8:1::1", capacity: UInt64.max - 1),
        Defaults(subnet: "fd00::100/120", canonical: "fd00::100/120", start: "fd00::101", end: "fd00::1ff", gateway: "fd00::101", capacity: 254),
        Defaults(subnet: "fd00::/126", canonical: "fd00::/126", start: "fd00::1", end: "fd00::3", gateway: "fd00::1", capacity: 2),
        Defaults(subnet: "fd00::/48", canonical: "fd00::/48", start: "fd00::1", end: "fd00::ffff:ffff:ffff:ffff:ffff", gateway: "fd00::1", capacity: .max),
    ])
    func defaults(_ c: Defaults) throws {
        let r = try range(c.subnet)
        #expect(r.subnet == net(c.canonical))
        #expect(r.subnet.isCanonical)
        #expect(r.rangeStart == ip(c.start))
        #expect(r.rangeEnd == ip(c.end))
        #expect(r.gateway == ip(c.gateway))
        #expect(r.capacity == c.capacity)
    }

    /// Upstream host-local rejects subnets with fewer than two host bits
    /// ("too small to allocate from"); Holdfast does the same.
    @Test(arguments: ["10.0.0.0/31", "10.0.0.1/32", "fd00::/127", "fd00::1/128", "0.0.0.0/32"])
    func tooSmall(_ subnet: String) {
        #expect {
            try range(subnet)
        } throws: { e in
            guard case IPAMError.invalidRange(let m) = e else { return false }
            return m.contains("too small")
        }
    }

    struct Invalid: Sendable, CustomStringConvertible {
        let subnet: String, start: String?, end: String?, gw: String?, mentions: String
        var description: String { "\(subnet) \(start ?? "-") \(end ?? "-") \(gw ?? "-")" }
    }

    @Test(arguments: [
        Invalid(subnet: "192.0.2.0/24", start: "192.0.3.0", end: nil, gw: nil, mentions: "rangeStart 192.0.3.0 not in network 192.0.2.0/24"),
        Invalid(subnet: "192.0.2.0/24", start: nil, end: "192.0.4.0", gw: nil, mentions: "rangeEnd 192.0.4.0 not in network"),
        Invalid(subnet: "192.0.2.0/24", start: "192.0.2.50", end: "192.0.2.40", gw: nil, mentions: "after rangeEnd"),
        Invalid(subnet: "192.0.2.0/24", start: "192.0.2.255", end: nil, gw: nil, mentions: "after rangeEnd 192.0.2.254"),
        Invalid(subnet: "10.0.0.0/24", start: nil, end: nil, gw: "192.168.1.1", mentions: "gateway 192.168.1.1 not in network 10.0.0.0/24"),
        Invalid(subnet: "10.0.0.0/24", start: nil, end: nil, gw: "2001:db8::1", mentions: "not the same address family"),
        Invalid(subnet: "fd00::/64", start: "10.0.0.1", end: nil, gw: nil, mentions: "not the same address family"),
        Invalid(subnet: "fd00::/64", start: nil, end: "fd00:0:0:1::", gw: nil, mentions: "not in network fd00::/64"),
    ])
    func invalid(_ c: Invalid) {
        #expect {
            try range(c.subnet, c.start, c.end, gw: c.gw)
        } throws: { e in
            guard case IPAMError.invalidRange(let m) = e else { return false }
            return m.contains(c.mentions) && "\(e)" == m
        }
    }

    @Test func explicitFieldsAtTheSubnetEdges() throws {
        // host-local accepts the network and broadcast addresses as bounds;
        // they stay unallocatable.
        let r = try range("10.0.0.0/24", "10.0.0.0", "10.0.0.255", gw: "10.0.0.254")
        #expect(r.rangeStart == ip("10.0.0.0"))
        #expect(r.rangeEnd == ip("10.0.0.255"))
        #expect(r.contains(ip("10.0.0.0")) && r.contains(ip("10.0.0.255")))
        #expect(!r.isAllocatable(ip("10.0.0.0")))
        #expect(!r.isAllocatable(ip("10.0.0.255")))
        #expect(!r.isAllocatable(ip("10.0.0.254")))
        #expect(r.isAllocatable(ip("10.0.0.1")))
        #expect(r.isAllocatable(ip("10.0.0.253")))
        #expect(r.capacity == 253)
    }

    @Test func ipv6EdgesAndUpperIsAllocatable() throws {
        let r = try range("fd00::/120", "fd00::", "fd00::ff")
        #expect(!r.isAllocatable(ip("fd00::")))     // subnet-router anycast / network
        #expect(!r.isAllocatable(ip("fd00::1")))    // default gateway
        #expect(r.isAllocatable(ip("fd00::ff")))    // no broadcast in IPv6
        #expect(r.capacity == 254)
        #expect(!r.contains(ip("fd00::100")))
        #expect(!r.isAllocatable(ip("10.0.0.2")))
    }

    @Test func singleAddressPoolAndGatewayOutsidePool() throws {
        let r = try range("10.0.0.0/24", "10.0.0.7", "10.0.0.7")
        #expect(r.capacity == 1)
        #expect(r.isAllocatable(ip("10.0.0.7")))
        #expect(!r.contains(ip("10.0.0.6")) && !r.contains(ip("10.0.0.8")))
        let g = try range("10.0.0.0/24", "10.0.0.1", "10.0.0.1")
        #expect(g.capacity == 0)
    }

    @Test func containsRespectsPoolBounds() throws {
        let r = try range("192.0.2.0/24", "192.0.2.40", "192.0.2.50", gw: "192.0.2.254")
        for (a, inside) in [("192.0.2.39", false), ("192.0.2.40", true), ("192.0.2.50", true), ("192.0.2.51", false), ("192.0.3.40", false)] {
            #expect(r.contains(ip(a)) == inside, "\(a)")
        }
    }

    @Test func codableUsesHostLocalFieldsAndValidates() throws {
        let json = #"{"subnet":"10.1.2.3/24","rangeStart":"10.1.2.10"}"#
        let r = try JSONDecoderShim.decode(IPRange.self, json)
        #expect(r == (try range("10.1.2.0/24", "10.1.2.10")))
        let back = try JSONDecoderShim.decode(IPRange.self, JSONDecoderShim.encode(r))
        #expect(back == r)
        #expect(throws: (any Error).self) {
            try JSONDecoderShim.decode(IPRange.self, #"{"subnet":"10.1.2.0/31"}"#)
        }
        #expect(throws: (any Error).self) {
            try JSONDecoderShim.decode(IPRange.self, #"{"subnet":"10.1.2.0/24","rangeEnd":"10.1.3.1"}"#)
        }
    }
}
