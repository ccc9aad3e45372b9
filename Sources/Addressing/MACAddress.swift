/// A 48-bit Ethernet hardware address, printed as CNI results show it
/// (`"aa:bb:cc:dd:ee:ff"`, lowercase).
public struct MACAddress: Sendable, Hashable, CustomStringConvertible, Codable {
    public var bytes: [UInt8]

    /// nil unless exactly six bytes.
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
        bytes.map { b in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }.joined(separator: ":")
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let m = MACAddress(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "invalid MAC address \"\(s)\"")
        }
        self = m
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
