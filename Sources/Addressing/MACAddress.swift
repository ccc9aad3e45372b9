/// A 48-bit Ethernet hardware address, printed as CNI results show it
/// (`"aa:bb:cc:dd:ee:ff"`, lowercase).
public struct MACAddress: Sendable, Hashable, TextCodable {
    public var bytes: [UInt8]

    /// nil unless exactly six bytes.
    @inlinable  // specialised per caller; unspecialised, its first call cost a runtime conformance lookup
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 6 else { return nil }
        self.bytes = Array(bytes)
    }

    /// Parses six colon-separated hex pairs.
    /// (Inlinable for the reason given on `IPv4Address.init?(_:)`.)
    @inlinable
    public init?(_ text: some StringProtocol) { self.init(parsing: Substring(text)) }

    @usableFromInline
    init?(parsing text: Substring) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard p.count == 2, let b = UInt8(p, radix: 16) else { return nil }
            out.append(b)
        }
        bytes = out
    }

    public var description: String {
        // Hex digits written directly: `joined(separator:)` and `String(radix:)`
        // run unspecialised and cost a runtime conformance lookup per process.
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3)
        for (i, b) in bytes.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ":")) }
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static let textKind = "MAC address"
    public init?(text: String) { self.init(text) }
}
