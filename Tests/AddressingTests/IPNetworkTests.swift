import Testing
import Addressing

@Suite("IPNetwork")
struct IPNetworkTests {
    struct Case: Sendable, CustomStringConvertible {
        let cidr: String
        let lower: String
        let upper: String
        let size: UInt64
        var description: String { cidr }
    }

    @Test(arguments: [
        Case(cidr: "10.22.0.5/16", lower: "10.22.0.0", upper: "10.22.255.255", size: 65536),
        Case(cidr: "192.168.1.0/24", lower: "192.168.1.0", upper: "192.168.1.255", size: 256),
        Case(cidr: "10.0.0.7/31", lower: "10.0.0.6", upper: "10.0.0.7", size: 2),
        Case(cidr: "10.0.0.7/32", lower: "10.0.0.7", upper: "10.0.0.7", size: 1),
        Case(cidr: "1.2.3.4/0", lower: "0.0.0.0", upper: "255.255.255.255", size: 1 << 32),
        Case(cidr: "fd00::5/64", lower: "fd00::", upper: "fd00::ffff:ffff:ffff:ffff", size: .max),
        Case(cidr: "fd00::1:5/120", lower: "fd00::1:0", upper: "fd00::1:ff", size: 256),
        Case(cidr: "fd00:1:2:3:4:5:6:7/127", lower: "fd00:1:2:3:4:5:6:6", upper: "fd00:1:2:3:4:5:6:7", size: 2),
        Case(cidr: "fd00::1/128", lower: "fd00::1", upper: "fd00::1", size: 1),
        Case(cidr: "fd00:ffff::/17", lower: "fd00:8000::", upper: "fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", size: .max),
        Case(cidr: "::/0", lower: "::", upper: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", size: .max),
    ])
    func bounds(_ c: Case) throws {
        let n = try #require(IPNetwork(c.cidr))
        #expect(n.description == c.cidr)
        #expect(n.lower == IPAddress(c.lower))
        #expect(n.upper == IPAddress(c.upper))
        #expect(n.size == c.size)
        #expect(n.network.address == IPAddress(c.lower))
        #expect(n.network.isCanonical)
        #expect(n.contains(n.lower) && n.contains(n.upper) && n.contains(n.address))
        if let before = n.lower.previous { #expect(!n.contains(before)) }
        if let after = n.upper.next { #expect(!n.contains(after)) }
    }

    @Test(arguments: ["10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/08",
                      "10.0.0.0/24/1", "fd00::/129", "fd00::/0064", "/24", "10.0.0.0/ 24", "10.0.0.256/24", "10.0.0.0/1234", "10.0.0.0/00"])
    func rejects(_ text: String) {
        #expect(IPNetwork(text) == nil)
    }

    @Test func containsIsFamilyAware() {
        let n = IPNetwork("0.0.0.0/0")!
        #expect(n.contains(IPAddress("255.1.2.3")!))
        #expect(!n.contains(IPAddress("::1")!))
        #expect(!IPNetwork("::/0")!.contains(IPAddress("1.2.3.4")!))
    }

    struct Overlap: Sendable, CustomStringConvertible {
        let a: String, b: String, overlaps: Bool
        var description: String { "\(a) vs \(b)" }
    }

    @Test(arguments: [
        Overlap(a: "10.0.0.0/24", b: "10.0.1.0/24", overlaps: false),
        Overlap(a: "10.0.0.0/23", b: "10.0.1.0/24", overlaps: true),
        Overlap(a: "10.0.1.0/24", b: "10.0.0.0/16", overlaps: true),
        Overlap(a: "10.0.0.0/24", b: "10.0.0.255/32", overlaps: true),
        Overlap(a: "0.0.0.0/24", b: "::/24", overlaps: false),
        Overlap(a: "fd00::/64", b: "fd00:0:0:1::/64", overlaps: false),
        Overlap(a: "fd00::/48", b: "fd00:0:0:1::/64", overlaps: true),
    ])
    func overlaps(_ c: Overlap) {
        let a = IPNetwork(c.a)!, b = IPNetwork(c.b)!
        #expect(a.overlaps(b) == c.overlaps)
        #expect(b.overlaps(a) == c.overlaps)
    }

    @Test func codableAsString() throws {
        let n = IPNetwork("10.22.0.5/16")!
        #expect(n.address == IPAddress("10.22.0.5"))
        #expect(!n.isCanonical)
        #expect(IPNetwork(address: IPAddress("10.0.0.0")!, prefixLength: 33) == nil)
        #expect(IPNetwork(address: IPAddress("::")!, prefixLength: 128) != nil)
    }
}
