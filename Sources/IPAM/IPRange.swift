import Addressing

/// One host-local "range": a subnet and the part of it addresses are taken from.
///
/// Canonicalisation follows containernetworking/plugins host-local
/// (`backend/allocator/range.go`, `Range.Canonicalize` and `lastIP`) so that a
/// configuration moved from `host-local` to Holdfast allocates from the same pool:
/// - The subnet is masked to its network address (`10.0.0.5/24` becomes
///   `10.0.0.0/24`), as host-local did before it started rejecting host bits;
///   masking keeps the core total; config decoding (`IPAMConfig`) rejects host
///   bits as current host-local does, so users see the mistake.
/// - Subnets with fewer than two host bits are rejected as "too small to allocate
///   from": IPv4 /31 and /32, IPv6 /127 and /128. Upstream host-local still does
///   exactly this (`ones > masklen-2`; RFC 3021 /31 support is requested in
///   containernetworking/plugins#908 but not merged), so /31 and /32 need no special
///   network/broadcast rules here: a valid range always has a network address
///   distinct from its first host.
/// - `gateway` defaults to `subnet.lower + 1` (host-local "claims .1"); an explicit
///   gateway must lie inside the subnet (upstream validates this too).
/// - `rangeStart` defaults to `subnet.lower + 1`. That equals the default gateway;
///   like host-local's iterator, the allocator simply skips the gateway.
/// - `rangeEnd` defaults to the last usable address: the broadcast minus one for
///   IPv4, the last address of the prefix for IPv6 (IPv6 has no broadcast).
/// - Explicit `rangeStart`/`rangeEnd` must lie inside the subnet and
///   `rangeStart <= rangeEnd`.
///
/// An explicit `rangeStart` may be the network address and an explicit `rangeEnd`
/// the IPv4 broadcast: host-local accepts those, and `isAllocatable` excludes them.
public struct IPRange: Sendable, Hashable {
    /// The canonical prefix (host bits cleared).
    public private(set) var subnet: IPNetwork
    /// First address of the pool (inclusive).
    public private(set) var rangeStart: IPAddress
    /// Last address of the pool (inclusive).
    public private(set) var rangeEnd: IPAddress
    /// The gateway; never handed out. Always set after validation; optional to
    /// match the contract and host-local's config shape.
    public private(set) var gateway: IPAddress?

    /// Validates and fills defaults as described on the type.
    /// - Throws: `IPAMError.invalidRange` naming the offending value.
    public init(subnet: IPNetwork, rangeStart: IPAddress? = nil, rangeEnd: IPAddress? = nil,
                gateway: IPAddress? = nil) throws(IPAMError) {
        let net = subnet.network
        let hostBits = net.address.bitWidth - net.prefixLength
        guard hostBits >= 2 else {
            throw .invalidRange("network \(net) too small to allocate from (host-local needs at least /30 for IPv4, /126 for IPv6)")
        }
        // hostBits >= 2 guarantees lower+1 exists and is inside the subnet.
        let firstHost = net.lower.next!
        let lastUsable = net.address.isIPv4 ? net.upper.previous! : net.upper

        func inside(_ a: IPAddress, _ what: String) throws(IPAMError) {
            guard a.isIPv4 == net.address.isIPv4 else {
                throw .invalidRange("\(what) \(a) is not the same address family as subnet \(net)")
            }
            guard net.contains(a) else { throw .invalidRange("\(what) \(a) not in network \(net)") }
        }
        if let g = gateway { try inside(g, "gateway") }
        if let s = rangeStart { try inside(s, "rangeStart") }
        if let e = rangeEnd { try inside(e, "rangeEnd") }
        let start = rangeStart ?? firstHost
        let end = rangeEnd ?? lastUsable
        guard start <= end else {
            throw .invalidRange("rangeStart \(start) is after rangeEnd \(end) in network \(net)")
        }
        self.subnet = net
        self.rangeStart = start
        self.rangeEnd = end
        self.gateway = gateway ?? firstHost
    }

    public var isIPv4: Bool { subnet.address.isIPv4 }

    /// Whether `a` lies within `rangeStart...rangeEnd` (same family).
    public func contains(_ a: IPAddress) -> Bool {
        a.isIPv4 == isIPv4 && rangeStart <= a && a <= rangeEnd
    }

    /// Whether `a` may be handed to a container: inside the pool and not the
    /// network address, the IPv4 broadcast or the gateway. (No /31-/32 exceptions
    /// are needed: such subnets are rejected at init, as in host-local.)
    public func isAllocatable(_ a: IPAddress) -> Bool {
        contains(a) && !isReserved(a)
    }

    /// Network address, IPv4 broadcast or gateway.
    func isReserved(_ a: IPAddress) -> Bool {
        a == subnet.lower || (isIPv4 && a == subnet.upper) || a == gateway
    }

    /// Number of allocatable addresses, saturated at `UInt64.max` (an IPv6 /64
    /// range with default bounds holds 2^64 - 2 of them).
    public var capacity: UInt64 {
        // distance is exact up to 2^64 - 1, saturated beyond.
        let span = rangeStart.distance(to: rangeEnd) ?? 0
        let (total, overflow) = span.addingReportingOverflow(1)
        if overflow { return .max }
        var reserved: Set<IPAddress> = [subnet.lower]
        if isIPv4 { reserved.insert(subnet.upper) }
        if let g = gateway { reserved.insert(g) }
        let excluded = UInt64(reserved.filter { contains($0) }.count)
        return total - excluded
    }

    /// Whether the two pools share an address (different families never do).
    public func overlaps(_ other: IPRange) -> Bool {
        isIPv4 == other.isIPv4 && rangeStart <= other.rangeEnd && other.rangeStart <= rangeEnd
    }
}

extension IPRange: CustomStringConvertible {
    /// `10.0.0.2-10.0.0.254 in 10.0.0.0/24`, as used in error messages.
    public var description: String { "\(rangeStart)-\(rangeEnd) in \(subnet)" }
}

/// Coded with host-local's JSON field names (`subnet`, `rangeStart`, `rangeEnd`,
/// `gateway`) so a `ranges` element decodes directly. Decoding runs the same
/// validation as `init`, so an invalid range can never be materialised from JSON.
extension IPRange: Codable {
    private enum CodingKeys: String, CodingKey { case subnet, rangeStart, rangeEnd, gateway }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(subnet: c.decode(IPNetwork.self, forKey: .subnet),
                      rangeStart: c.decodeIfPresent(IPAddress.self, forKey: .rangeStart),
                      rangeEnd: c.decodeIfPresent(IPAddress.self, forKey: .rangeEnd),
                      gateway: c.decodeIfPresent(IPAddress.self, forKey: .gateway))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(subnet, forKey: .subnet)
        try c.encode(rangeStart, forKey: .rangeStart)
        try c.encode(rangeEnd, forKey: .rangeEnd)
        try c.encodeIfPresent(gateway, forKey: .gateway)
    }
}
