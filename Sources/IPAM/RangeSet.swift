import Addressing

/// One element of host-local's `ranges`: the pools one attachment takes a single
/// address from. A dual-stack network has two range sets (one per family); one
/// set with several ranges lets a node draw from disjoint blocks.
///
/// Invariants, checked at init (as host-local's `RangeSet.Canonicalize` does):
/// non-empty, one address family, no two ranges sharing an address. They make
/// `range(containing:)` unambiguous, so every address maps to exactly one range,
/// one gateway and one prefix length.
public struct RangeSet: Sendable, Hashable {
    /// The ranges in configuration order; the allocator walks them in this order.
    public private(set) var ranges: [IPRange]

    /// - Throws: `IPAMError.invalidRange` when empty, `.mixedFamilies` when IPv4
    ///   and IPv6 ranges are mixed, `.overlappingRanges` naming both ranges.
    public init(_ ranges: [IPRange]) throws(IPAMError) {
        guard let first = ranges.first else { throw .invalidRange("a range set needs at least one range") }
        for r in ranges where r.isIPv4 != first.isIPv4 {
            throw .mixedFamilies("range set mixes address families: \(first) and \(r)")
        }
        for i in ranges.indices {
            for j in ranges.indices where j > i && ranges[i].overlaps(ranges[j]) {
                throw .overlappingRanges("range \(ranges[i]) overlaps range \(ranges[j])")
            }
        }
        self.ranges = ranges
    }

    public var isIPv4: Bool { ranges[0].isIPv4 }

    /// The range whose pool (`rangeStart...rangeEnd`) holds `address`, if any.
    public func range(containing address: IPAddress) -> IPRange? {
        ranges.first { $0.contains(address) }
    }

    /// Index into `ranges` of the range holding `address`.
    func rangeIndex(containing address: IPAddress) -> Int? {
        ranges.firstIndex { $0.contains(address) }
    }

    /// Whether any range of `self` shares an address with any range of `other`.
    /// The plugin rejects configurations where two range sets overlap: an address
    /// would then belong to two sets and could be leased twice.
    public func overlaps(_ other: RangeSet) -> Bool {
        overlap(with: other) != nil
    }

    /// The first overlapping pair, for error messages.
    public func overlap(with other: RangeSet) -> (IPRange, IPRange)? {
        for a in ranges {
            for b in other.ranges where a.overlaps(b) { return (a, b) }
        }
        return nil
    }

    /// Total allocatable addresses, saturated at `UInt64.max`.
    public var capacity: UInt64 {
        ranges.reduce(0) { acc, r in
            let (s, o) = acc.addingReportingOverflow(r.capacity)
            return o ? .max : s
        }
    }
}

extension RangeSet: CustomStringConvertible {
    public var description: String { ranges.map(\.description).joined(separator: ", ") }
}

/// Coded as a JSON array of ranges, host-local's shape for one `ranges` element;
/// decoding validates like `init`.
extension RangeSet: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        try self.init(c.decode([IPRange].self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(ranges)
    }
}
