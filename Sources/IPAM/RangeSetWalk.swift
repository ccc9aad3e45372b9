import Addressing

/// A lazy round-robin walk over every pool address of a range set, in
/// configuration order, starting anywhere and wrapping around once.
///
/// Holds only a position (range index + address), so walking a /16 or a /64 costs
/// O(1) memory; nothing is materialised. It yields every address of every pool,
/// including reserved ones; the allocator filters with `isAllocatable`.
/// The walk ends when it would come back to its first address, which visits each
/// address exactly once because the ranges of a set never overlap.
struct RangeSetWalk: Sequence, IteratorProtocol {
    let set: RangeSet
    private let start: (range: Int, address: IPAddress)
    private var cursor: (range: Int, address: IPAddress)?

    /// Starts at the address after `lastReserved` when that address lies in the
    /// set (host-local's round-robin, so a crash-looping container does not get
    /// the same address back at once); otherwise at the first range's start.
    init(set: RangeSet, after lastReserved: IPAddress?) {
        self.set = set
        if let last = lastReserved, let i = set.rangeIndex(containing: last) {
            start = Self.successor(of: (i, last), in: set)
        } else {
            start = (0, set.ranges[0].rangeStart)
        }
        cursor = start
    }

    /// The position after `p`: the next address in the same range, or the start
    /// of the next range (wrapping to the first) after `rangeEnd`.
    private static func successor(of p: (range: Int, address: IPAddress), in set: RangeSet) -> (range: Int, address: IPAddress) {
        let r = set.ranges[p.range]
        // rangeEnd is checked first, so `next` never runs past the family's space.
        if p.address != r.rangeEnd, let n = p.address.next { return (p.range, n) }
        let i = (p.range + 1) % set.ranges.count
        return (i, set.ranges[i].rangeStart)
    }

    mutating func next() -> (rangeIndex: Int, address: IPAddress)? {
        guard let c = cursor else { return nil }
        let s = Self.successor(of: c, in: set)
        cursor = (s.range == start.range && s.address == start.address) ? nil : s
        return (c.range, c.address)
    }
}
