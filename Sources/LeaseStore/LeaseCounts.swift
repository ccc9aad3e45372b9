/// How full a network's pool is, for `ipamctl pools` and metrics.
public struct LeaseCounts: Sendable, Hashable {
    /// Leases backing a live attachment.
    public var active = 0
    /// Leases whose DEL ran while the network was frozen.
    public var pendingRelease = 0
    /// Released addresses still resting in quarantine (and not re-leased).
    public var quarantined = 0
    /// All leases per range-set index.
    public var byRangeSet: [Int: Int] = [:]

    public init() {}
}
