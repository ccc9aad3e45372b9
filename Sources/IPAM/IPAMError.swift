/// Why an IPAM decision could not be made.
///
/// Each case carries a complete sentence naming the offending values, because
/// these messages end up verbatim in CNI error results and `ipamctl` output,
/// where an operator must be able to act on them without reading the source.
public enum IPAMError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A range's subnet, start, end or gateway is inconsistent, or the subnet is
    /// too small to allocate from.
    case invalidRange(String)
    /// Two ranges (of one range set, or of two range sets) share addresses.
    case overlappingRanges(String)
    /// A range set mixes IPv4 and IPv6 ranges.
    case mixedFamilies(String)
    /// No allocatable address is free (or the bounded scan gave up).
    case exhausted(String)
    /// A requested address is inside the set but cannot be handed out
    /// (taken, the gateway, the network or broadcast address).
    case requestedUnavailable(String)
    /// A requested address is not inside any range of the set.
    case requestedOutOfRange(String)

    /// The human message without the case name.
    public var message: String {
        switch self {
        case .invalidRange(let m), .overlappingRanges(let m), .mixedFamilies(let m),
             .exhausted(let m), .requestedUnavailable(let m), .requestedOutOfRange(let m):
            m
        }
    }

    public var description: String { message }
}
