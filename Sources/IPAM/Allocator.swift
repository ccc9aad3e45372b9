import Addressing

/// Picks addresses from a range set. Pure: the store is consulted only through the
/// `availability` closure, so the allocator never knows SQLite exists and its
/// unit tests use a dictionary.
public enum Allocator {
    /// The most addresses one allocation asks `availability` about before it gives
    /// up. Without a bound, a nearly full IPv6 /64 would be scanned for 2^64 steps;
    /// 2^20 probes cover a fully packed IPv4 /12 and take well under a second with
    /// an indexed store, which keeps one ADD inside its latency budget.
    public static let maxProbes = 1 << 20

    /// Round-robin allocation, like host-local: start at the address after
    /// `lastReserved` (when it lies in the set; else at the first range's start),
    /// walk all ranges in order, wrap around, and visit every allocatable address
    /// at most once. Round-robin spreads reuse across the pool so a released
    /// address rests as long as possible before it is handed out again.
    ///
    /// The first `.free` address wins. If the walk finds none, the first
    /// `.quarantined` one seen is returned: the quarantine yields only when the pool
    /// has nothing else free (a quarantined address has no live holder; the wait is
    /// to let peers' ARP and conntrack entries expire).
    ///
    /// The walk is lazy (O(1) memory) and asks `availability` at most `maxProbes`
    /// times. When the cap is reached with nothing free, a quarantined address seen
    /// so far is still returned; with none, it throws `exhausted` saying the scan
    /// was capped.
    ///
    /// - Throws: `IPAMError.exhausted`, or whatever `availability` throws (rethrown
    ///   unchanged, so a store error stays a store error).
    public static func allocate(in set: RangeSet, after lastReserved: IPAddress?,
                                availability: (IPAddress) throws -> Availability) throws -> (IPAddress, IPRange) {
        var firstQuarantined: (IPAddress, IPRange)?
        var probes = 0
        for (index, address) in RangeSetWalk(set: set, after: lastReserved) {
            let range = set.ranges[index]
            guard range.isAllocatable(address) else { continue }
            guard probes < maxProbes else {
                if let q = firstQuarantined { return q }
                throw IPAMError.exhausted(
                    "no free address found in range set \(set) within \(maxProbes) probes (scan capped; the pool may still have free addresses further on)")
            }
            probes += 1
            switch try availability(address) {
            case .free: return (address, range)
            case .quarantined: if firstQuarantined == nil { firstQuarantined = (address, range) }
            case .taken: continue
            }
        }
        if let q = firstQuarantined { return q }
        throw IPAMError.exhausted("no IP addresses available in range set \(set)")
    }

    /// A specific requested address (CNI `ips` / `IP=` argument). It must be
    /// allocatable in the set (inside a pool, not the network, broadcast or gateway
    /// address) and `.free` or `.quarantined`: an explicit request overrides the
    /// quarantine, since the operator chose the address deliberately.
    ///
    /// - Throws: `IPAMError.requestedOutOfRange` when no range holds it,
    ///   `.requestedUnavailable` when it is reserved or taken, or what
    ///   `availability` throws.
    public static func allocate(requested: IPAddress, in set: RangeSet,
                                availability: (IPAddress) throws -> Availability) throws -> (IPAddress, IPRange) {
        guard let range = set.range(containing: requested) else {
            throw IPAMError.requestedOutOfRange("requested IP address \(requested) is not in range set \(set)")
        }
        if requested == range.gateway {
            throw IPAMError.requestedUnavailable("requested IP address \(requested) is the gateway of \(range.subnet)")
        }
        if requested == range.subnet.lower {
            throw IPAMError.requestedUnavailable("requested IP address \(requested) is the network address of \(range.subnet)")
        }
        if range.isIPv4 && requested == range.subnet.upper {
            throw IPAMError.requestedUnavailable("requested IP address \(requested) is the broadcast address of \(range.subnet)")
        }
        switch try availability(requested) {
        case .free, .quarantined: return (requested, range)
        case .taken:
            throw IPAMError.requestedUnavailable("requested IP address \(requested) is already allocated in range set \(set)")
        }
    }
}
