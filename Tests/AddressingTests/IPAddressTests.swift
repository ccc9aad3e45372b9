import Testing
import Addressing

@Suite("IPv4 parsing and formatting")
struct IPv4AddressTests {
    struct Case: Sendable, CustomStringConvertible {
        let text: String
        let value: UInt32
        var description: String { text }
    }

    @Test(arguments: [
        Case(text: "0.0.0.0", value: 0),
        Case(text: "10.0.0.1", value: 0x0A00_0001),
        Case(text: "192.168.1.255", value: 0xC0A8_01FF),
        Case(text: "255.255.255.255", value: .max),
    ])
    func roundTrip(_ c: Case) throws {
        let a = try #require(IPv4Address(c.text))
        #expect(a.value == c.value)
        #expect(a.description == c.text)
        #expect(IPv4Address(bytes: a.bytes) == a)
    }

    @Test(arguments: ["", "1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.04", "1..2.3",
                      "1.2.3.4 ", " 1.2.3.4", "+1.2.3.4", "1.2.3.-4", "a.b.c.d", "1.2.3.4/24", "1.2.3.0x4",
                      "1.2.3.٤", "::1", "1000.0.0.1", "1.2.3.", ".1.2.3", "00.1.2.3", "1.2.3.4."])
    func rejects(_ text: String) {
        #expect(IPv4Address(text) == nil)
        #expect(IPAddress(text).map { $0.isIPv4 } != true)
    }

    @Test func bytesAreNetworkOrder() {
        #expect(IPv4Address("10.1.2.3")!.bytes == [10, 1, 2, 3])
        #expect(IPv4Address(bytes: [1, 2, 3]) == nil)
    }
}

@Suite("IPv6 parsing and RFC 5952 formatting")
struct IPv6AddressTests {
    struct Case: Sendable, CustomStringConvertible {
        let input: String
        let canonical: String
        var description: String { input }
    }

    @Test(arguments: [
        Case(input: "::", canonical: "::"),
        Case(input: "::1", canonical: "::1"),
        Case(input: "1::", canonical: "1::"),
        Case(input: "2001:DB8::1", canonical: "2001:db8::1"),
        Case(input: "2001:0db8:0000:0000:0000:0000:0000:0001", canonical: "2001:db8::1"),
        // A single zero group is not compressed (RFC 5952 4.2.2).
        Case(input: "2001:db8:0:1:1:1:1:1", canonical: "2001:db8:0:1:1:1:1:1"),
        // The longest run is compressed (4.2.3).
        Case(input: "2001:0:0:1:0:0:0:1", canonical: "2001:0:0:1::1"),
        // On a tie the first run is compressed (4.2.3).
        Case(input: "2001:db8:0:0:1:0:0:1", canonical: "2001:db8::1:0:0:1"),
        Case(input: "fd00:0:0:0:0:0:0:0", canonical: "fd00::"),
        Case(input: "1:2:3:4:5:6:7:8", canonical: "1:2:3:4:5:6:7:8"),
        Case(input: "1:2:3:4:5:6:7::", canonical: "1:2:3:4:5:6:7:0"),
        Case(input: "::2:3:4:5:6:7:8", canonical: "0:2:3:4:5:6:7:8"),
        // IPv4-mapped addresses print in mixed notation (RFC 5952 section 5).
        Case(input: "::ffff:1.2.3.4", canonical: "::ffff:1.2.3.4"),
        Case(input: "::FFFF:0102:0304", canonical: "::ffff:1.2.3.4"),
        Case(input: "64:ff9b::192.0.2.33", canonical: "64:ff9b::c000:221"),
        Case(input: "1:2:3:4:5:6:1.2.3.4", canonical: "1:2:3:4:5:6:102:304"),
    ])
    func canonicalPrinting(_ c: Case) throws {
        let a = try #require(IPv6Address(c.input))
        #expect(a.description == c.canonical)
        #expect(IPv6Address(a.description) == a)
        #expect(IPv6Address(bytes: a.bytes) == a)
    }

    @Test func mappedValue() throws {
        let a = try #require(IPv6Address("::ffff:1.2.3.4"))
        #expect(a.high == 0)
        #expect(a.low == 0x0000_FFFF_0102_0304)
        // Parsed as IPv6, never silently folded into IPv4.
        #expect(IPAddress("::ffff:1.2.3.4")?.isIPv4 == false)
    }

    @Test(arguments: ["", ":", ":::", "1:::2", "1::2::3", ":1::", "1::2:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
                      "::1:2:3:4:5:6:7:8", "12345::", "g::1", "fe80::1%eth0", "::1.2.3", "::1.2.3.4:5",
                      "1.2.3.4::", "::256.0.0.1", "+1::", "::-1", "::+ff", " ::1", "::1 ", "1:2:3:4:5:6:7:1.2.3.4",
                      "::ffff:01.2.3.4", "[::1]"])
    func rejects(_ text: String) {
        #expect(IPv6Address(text) == nil)
        #expect(IPAddress(text) == nil)
    }
}

@Suite("IPAddress arithmetic and ordering")
struct IPAddressArithmeticTests {
    @Test func nextAndPreviousAtTheEdges() {
        #expect(IPAddress("255.255.255.255")!.next == nil)
        #expect(IPAddress("0.0.0.0")!.previous == nil)
        #expect(IPAddress("10.0.0.255")!.next == IPAddress("10.0.1.0"))
        #expect(IPAddress("::ffff:ffff:ffff:ffff")!.next == IPAddress("0:0:0:1::"))
        #expect(IPAddress("0:0:0:1::")!.previous == IPAddress("::ffff:ffff:ffff:ffff"))
        #expect(IPAddress("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")!.next == nil)
        #expect(IPAddress("::")!.previous == nil)
    }

    @Test func distance() {
        #expect(IPAddress("10.0.0.1")!.distance(to: IPAddress("10.0.1.1")!) == 256)
        #expect(IPAddress("10.0.0.2")!.distance(to: IPAddress("10.0.0.1")!) == nil)
        #expect(IPAddress("10.0.0.1")!.distance(to: IPAddress("::1")!) == nil)
        #expect(IPAddress("::ffff:ffff:ffff:fff0")!.distance(to: IPAddress("0:0:0:1::10")!) == 0x20)
        #expect(IPAddress("::")!.distance(to: IPAddress("0:0:0:1::")!) == .max)
        #expect(IPAddress("::")!.distance(to: IPAddress("ffff::")!) == .max)
    }

    @Test func orderingPutsIPv4First() {
        let sorted = ["::1", "10.0.0.2", "10.0.0.10", "::"].compactMap { IPAddress($0) }.sorted()
        #expect(sorted.map(\.description) == ["10.0.0.2", "10.0.0.10", "::", "::1"])
    }

    @Test func bytes() {
        #expect(IPAddress(bytes: [10, 0, 0, 1]) == IPAddress("10.0.0.1"))
        #expect(IPAddress(bytes: [UInt8](repeating: 0, count: 15) + [1]) == IPAddress("::1"))
        #expect(IPAddress(bytes: [1, 2, 3, 4, 5]) == nil)
    }
}
