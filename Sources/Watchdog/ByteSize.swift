/// A memory size from the command line: `33554432`, `32M`, `32MiB`, `1G`, `512k`.
/// Binary multiples (K = 1024), as cgroup limits are page-based anyway.
public struct ByteSize: Sendable, Hashable {
    public var bytes: UInt64

    public init(bytes: UInt64) { self.bytes = bytes }

    /// Strict: a number, then an optional unit; nothing else. Zero is rejected
    /// (a zero limit would OOM-kill the agent at its first page).
    public init?(parsing text: String) {
        var digits = Substring(text)
        var unit = ""
        while let last = digits.last, !last.isNumber {
            unit = String(last) + unit
            digits = digits.dropLast()
        }
        guard let number = UInt64(digits), number > 0 else { return nil }
        let shift: UInt64
        switch unit.lowercased() {
        case "", "b": shift = 0
        case "k", "kb", "kib": shift = 10
        case "m", "mb", "mib": shift = 20
        case "g", "gb", "gib": shift = 30
        default: return nil
        }
        guard number <= UInt64.max >> shift else { return nil }
        bytes = number << shift
    }
}
