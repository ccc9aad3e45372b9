/// An IPv6 address as two 64-bit halves in host byte order.
///
/// Kept as integers so ranges inside a /64 or /120 are plain arithmetic on
/// `low`. Parsing accepts the RFC 4291 text forms (including `::` compression
/// and an embedded dotted IPv4 tail); formatting follows RFC 5952 (lowercase,
/// longest zero run compressed), so the same address always prints the same way.
public struct IPv6Address: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses text such as `"fd00::1"` or `"::ffff:10.0.0.1"`. Returns nil on anything else.
    /// (Inlinable for the reason given on `IPv4Address.init?(_:)`.)
    @inlinable
    public init?(_ text: some StringProtocol) { self.init(parsing: Substring(text)) }

    @usableFromInline
    init?(parsing substring: Substring) {
        let text = String(substring)
        guard !text.isEmpty, text.count <= 45, !text.contains(":::") else { return nil }
        var groups: [UInt16] = []
        var head: [UInt16] = [], tail: [UInt16] = []
        let parts = Self.splitOnDoubleColon(text)
        guard parts.count <= 2 else { return nil }
        func parseGroups(_ s: String, allowV4Tail: Bool) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            let fields = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, f) in fields.enumerated() {
                if i == fields.count - 1, allowV4Tail, f.contains(".") {
                    guard let v4 = IPv4Address(f) else { return nil }
                    out.append(UInt16(v4.value >> 16))
                    out.append(UInt16(v4.value & 0xffff))
                    continue
                }
                // Hex digits only: UInt16(_:radix:) would also take a sign ("+1::").
                guard !f.isEmpty, f.count <= 4, f.allSatisfy(\.isHexDigit), f.allSatisfy(\.isASCII),
                      let g = UInt16(f, radix: 16) else { return nil }
                out.append(g)
            }
            return out
        }
        if parts.count == 2 {
            guard let h = parseGroups(parts[0], allowV4Tail: false),
                  let t = parseGroups(parts[1], allowV4Tail: true), h.count + t.count <= 7 else { return nil }
            head = h
            tail = t
            groups = head + Array(repeating: 0, count: 8 - h.count - t.count) + tail
        } else {
            guard let g = parseGroups(parts[0], allowV4Tail: true), g.count == 8 else { return nil }
            groups = g
        }
        high = groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        low = groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    private static func splitOnDoubleColon(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var previousColon = false
        for ch in text {
            if ch == ":" && previousColon {
                current.removeLast()
                parts.append(current)
                current = ""
                previousColon = false
                continue
            }
            current.append(ch)
            previousColon = ch == ":"
        }
        parts.append(current)
        return parts
    }

    /// The sixteen bytes in network order.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(high >> (56 - 8 * $0) & 0xff) } + (0..<8).map { UInt8(low >> (56 - 8 * $0) & 0xff) }
    }

    /// Builds an address from sixteen network-order bytes; nil unless exactly sixteen.
    @inlinable  // specialised per caller; unspecialised, its first call cost a runtime conformance lookup
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let a = Array(bytes)
        high = a[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = a[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    private var groups: [UInt16] {
        (0..<4).map { UInt16(high >> (48 - 16 * $0) & 0xffff) } + (0..<4).map { UInt16(low >> (48 - 16 * $0) & 0xffff) }
    }

    public var description: String {
        // RFC 5952 section 5: IPv4-mapped addresses print in mixed notation.
        if high == 0, low >> 32 == 0xffff {
            return "::ffff:" + IPv4Address(UInt32(truncatingIfNeeded: low)).description
        }
        let g = groups
        // RFC 5952: compress the longest run (length >= 2) of zero groups, the first on ties.
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if g[i] == 0 {
                var j = i
                while j < 8 && g[j] == 0 { j += 1 }
                if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else { i += 1 }
        }
        func hex(_ r: ArraySlice<UInt16>) -> String { r.map { String($0, radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(g[0..<8]) }
        return hex(g[0..<bestStart]) + "::" + hex(g[(bestStart + bestLen)..<8])
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}
