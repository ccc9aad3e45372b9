/// A key of the store's `meta` table.
///
/// Every key any Holdfast component reads or writes is registered here, with
/// who owns it, so two targets can never drift apart on a spelling (the bridge
/// record, the restore marker and the stamp keys are shared by the plugins and
/// `ipamctl`), and `meta`/`setMeta` take nothing else.
public struct MetaKey: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    // Kept by LeaseStore itself.
    /// The write counter `LeaseStore.write` bumps once per changing transaction.
    public static let generation = MetaKey(rawValue: "generation")
    /// Trigger-kept count of every change to the leases table, by any client.
    public static let leaseEpoch = MetaKey(rawValue: "lease_epoch")
    /// Set by `restore`: until cleared, whoever allocates must first compare the
    /// store with the kernel in full (a restored lease may be old).
    public static let restoredAt = MetaKey(rawValue: "restored_at")
    /// The backup `restore` restored from.
    public static let restoredFrom = MetaKey(rawValue: "restored_from")
    /// The generation the last stamping transaction committed (see `PendingGeneration`).
    public static let stampedGeneration = MetaKey(rawValue: "stamped_generation")

    // Kept by the lease service.
    /// The store's random identity, part of every currency stamp.
    public static let storeID = MetaKey(rawValue: "store_id")
    /// Present while the network is frozen; the value is the operator's reason.
    public static let frozen = MetaKey(rawValue: "frozen")
    /// The bridge a network's containers hang off (bridge plugin), read by reconcile.
    public static let bridge = MetaKey(rawValue: "bridge")
    /// The pool's range sets as last configured (JSON), and its quarantine.
    public static let ranges = MetaKey(rawValue: "ranges")
    public static let quarantineMs = MetaKey(rawValue: "quarantine_ms")
    /// The allocation rate limiter's bucket.
    public static let rateTokens = MetaKey(rawValue: "rate_tokens")
    public static let rateAtMs = MetaKey(rawValue: "rate_at_ms")
    /// Cluster mode: set when etcd gives a block this node holds to another node,
    /// and the boot id whose blocks were last checked against etcd.
    public static let clusterConflict = MetaKey(rawValue: "cluster_conflict")
    public static let clusterVerifiedBoot = MetaKey(rawValue: "cluster_verified_boot")
    /// Lifetime counters for metrics.
    public static let allocationsTotal = MetaKey(rawValue: "stats_allocations_total")
    public static let releasesTotal = MetaKey(rawValue: "stats_releases_total")
}
