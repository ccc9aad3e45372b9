/// An address with a prefix length, as CNI writes it: `"10.22.0.5/16"`.
///
/// The address part is kept as given (an interface address keeps its host
/// bits); `network` gives the masked prefix. `lower`/`upper` bound the block,
/// `contains(_:)` tests membership.
public struct IPNetwork: Sendable, Hashable, TextCodable {
    public var address: IPAddress
    public var prefixLength: Int

    /// Creates a prefix; nil when the length does not fit the family (0...32 or 0...128).
    public init?(address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.bitWidth else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `"ADDRESS/LEN"`; the length must be decimal without sign or leading zeros.
    /// (Inlinable for the reason given on `IPv4Address.init?(_:)`.)
    @inlinable
    public init?(_ text: some StringProtocol) { self.init(parsing: Substring(text)) }

    @usableFromInline
    init?(parsing text: Substring) {
        guard let slash = text.utf8.firstIndex(of: UInt8(ascii: "/")),
              let address = IPAddress(parsing: text[..<slash]) else { return nil }
        var length = 0
        var digits = 0
        for byte in text.utf8[text.utf8.index(after: slash)...] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 3,
                  !(digits == 1 && length == 0) else { return nil }
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        guard digits > 0 else { return nil }
        self.init(address: address, prefixLength: length)
    }

    /// The first address of the block (host bits cleared).
    public var lower: IPAddress {
        switch address {
        case .v4(let a):
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << (32 - prefixLength)
            return .v4(IPv4Address(a.value & mask))
        case .v6(let a):
            let (hm, lm) = Self.v6Mask(prefixLength)
            return .v6(IPv6Address(high: a.high & hm, low: a.low & lm))
        }
    }

    /// The last address of the block (host bits set).
    public var upper: IPAddress {
        switch address {
        case .v4(let a):
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << (32 - prefixLength)
            return .v4(IPv4Address(a.value | ~mask))
        case .v6(let a):
            let (hm, lm) = Self.v6Mask(prefixLength)
            return .v6(IPv6Address(high: a.high | ~hm, low: a.low | ~lm))
        }
    }

    /// The prefix itself with host bits cleared, e.g. `10.22.0.0/16` for `10.22.0.5/16`.
    public var network: IPNetwork { IPNetwork(address: lower, prefixLength: prefixLength)! }

    /// True when the address part has no host bits set.
    public var isCanonical: Bool { address == lower }

    /// Number of addresses in the block, saturated at `UInt64.max`.
    public var size: UInt64 {
        let hostBits = address.bitWidth - prefixLength
        return hostBits >= 64 ? .max : UInt64(1) << UInt64(hostBits)
    }

    /// Whether `other` is inside this block (false for the other family).
    public func contains(_ other: IPAddress) -> Bool {
        other.isIPv4 == address.isIPv4 && lower <= other && other <= upper
    }

    /// Whether the two blocks share any address.
    public func overlaps(_ other: IPNetwork) -> Bool {
        contains(other.lower) || other.contains(lower)
    }

    public var description: String { "\(address)/\(prefixLength)" }

    private static func v6Mask(_ len: Int) -> (UInt64, UInt64) {
        let hm: UInt64 = len == 0 ? 0 : len >= 64 ? .max : ~UInt64(0) << UInt64(64 - len)
        let lm: UInt64 = len <= 64 ? 0 : len == 128 ? .max : ~UInt64(0) << UInt64(128 - len)
        return (hm, lm)
    }

    public static let textKind = "CIDR"
    public init?(text: String) { self.init(text) }
}
