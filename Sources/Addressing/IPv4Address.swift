/// An IPv4 address as a 32-bit value in host byte order.
///
/// A value type over `UInt32` so that range arithmetic (next, distance,
/// containment) is integer arithmetic, and so that it sorts numerically.
/// Parsing is strict: exactly four decimal octets, no leading zeros
/// (`010.0.0.1` is rejected because some tools read it as octal).
public struct IPv4Address: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The address in host byte order: `10.0.0.1` is `0x0A00_0001`.
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    /// Parses dotted-quad text, e.g. `"192.168.1.3"`. Returns nil on anything else.
    ///
    /// Inlinable so each caller gets a specialised copy: the generic body, run
    /// unspecialised across the module boundary, cost every plugin start a
    /// runtime lookup of `StringProtocol`'s associated types.
    @inlinable
    public init?(_ text: some StringProtocol) { self.init(parsing: Substring(text)) }

    /// The parser on UTF-8 bytes: four decimal octets of 1–3 ASCII digits, each
    /// at most 255, no leading zeros, nothing else.
    @usableFromInline
    init?(parsing text: Substring) {
        var result: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "."):
                guard digits > 0, dots < 3 else { return nil }
                result = result << 8 | octet
                dots += 1
                octet = 0
                digits = 0
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                // A second digit after a leading "0" is a leading zero.
                guard digits < 3, !(digits == 1 && octet == 0) else { return nil }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard octet <= 255 else { return nil }
            default:
                return nil
            }
        }
        guard digits > 0, dots == 3 else { return nil }
        value = result << 8 | octet
    }

    /// The four octets in network order, as the kernel and the wire want them.
    public var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    /// Builds an address from four network-order bytes; nil unless exactly four.
    @inlinable  // specialised per caller; unspecialised, its first call cost a runtime conformance lookup
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        value = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}
