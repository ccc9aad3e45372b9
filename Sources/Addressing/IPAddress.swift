/// An IPv4 or IPv6 address.
///
/// One enum instead of a protocol so leases, ranges and results can hold either
/// family in the same collection, compare them (every IPv4 sorts before every
/// IPv6) and encode them as the plain strings CNI uses.
public enum IPAddress: Sendable, Hashable, Comparable, TextCodable {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses either family; IPv6 zone suffixes (`%eth0`) are rejected.
    /// (Inlinable for the reason given on `IPv4Address.init?(_:)`.)
    @inlinable
    public init?(_ text: some StringProtocol) { self.init(parsing: Substring(text)) }

    @usableFromInline
    init?(parsing text: Substring) {
        if let v4 = IPv4Address(parsing: text) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(parsing: text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// Builds an address from 4 or 16 network-order bytes.
    @inlinable  // specialised per caller; unspecialised, its first call cost a runtime conformance lookup
    public init?(bytes: some Collection<UInt8>) {
        if let v4 = IPv4Address(bytes: bytes) { self = .v4(v4) } else if let v6 = IPv6Address(bytes: bytes) { self = .v6(v6) } else { return nil }
    }

    public var isIPv4: Bool { if case .v4 = self { true } else { false } }
    /// Address length in bits: 32 or 128.
    public var bitWidth: Int { isIPv4 ? 32 : 128 }
    /// Network-order bytes, 4 or 16 of them.
    public var bytes: [UInt8] {
        switch self { case .v4(let a): a.bytes; case .v6(let a): a.bytes }
    }

    public var description: String {
        switch self { case .v4(let a): a.description; case .v6(let a): a.description }
    }

    /// The address `n` steps further on, or nil when that would leave the family's space.
    public func advanced(by n: Int64) -> IPAddress? {
        switch self {
        case .v4(let a):
            let r = Int64(a.value) + n
            guard r >= 0, r <= Int64(UInt32.max) else { return nil }
            return .v4(IPv4Address(UInt32(r)))
        case .v6(let a):
            if n >= 0 {
                let (low, carry) = a.low.addingReportingOverflow(UInt64(n))
                if carry { guard a.high < .max else { return nil }; return .v6(IPv6Address(high: a.high + 1, low: low)) }
                return .v6(IPv6Address(high: a.high, low: low))
            } else {
                let (low, borrow) = a.low.subtractingReportingOverflow(UInt64(-n))
                if borrow { guard a.high > 0 else { return nil }; return .v6(IPv6Address(high: a.high - 1, low: low)) }
                return .v6(IPv6Address(high: a.high, low: low))
            }
        }
    }

    /// The next address, or nil at the top of the family's space.
    public var next: IPAddress? { advanced(by: 1) }
    /// The previous address, or nil at the bottom of the family's space.
    public var previous: IPAddress? { advanced(by: -1) }

    /// Number of addresses from `self` to `other` inclusive-exclusive (`other - self`),
    /// saturated to `UInt64.max`; nil when the families differ or `other < self`.
    public func distance(to other: IPAddress) -> UInt64? {
        switch (self, other) {
        case (.v4(let a), .v4(let b)):
            return b.value >= a.value ? UInt64(b.value - a.value) : nil
        case (.v6(let a), .v6(let b)):
            guard b >= a else { return nil }
            if b.high == a.high { return b.low - a.low }
            if b.high == a.high + 1 && b.low < a.low { return b.low &- a.low }
            return .max
        default: return nil
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v6(let a), .v6(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }

    public static let textKind = "IP address"
    public init?(text: String) { self.init(text) }
}
