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
    public init?(_ text: some StringProtocol) {
        var result: UInt32 = 0
        var octets = 0
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard octets < 4, !part.isEmpty, part.count <= 3,
                  part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  !(part.count > 1 && part.first == "0"),
                  let octet = UInt32(part), octet <= 255 else { return nil }
            result = result << 8 | octet
            octets += 1
        }
        guard octets == 4 else { return nil }
        value = result
    }

    /// The four octets in network order, as the kernel and the wire want them.
    public var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    /// Builds an address from four network-order bytes; nil unless exactly four.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        value = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}
