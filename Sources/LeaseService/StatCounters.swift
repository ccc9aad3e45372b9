import LeaseStore

/// Allocation and release counters for metrics, kept in the store's meta
/// table and bumped inside the transaction that allocates or releases: they
/// cost no extra fsync and can never disagree with the leases they count.
public enum StatCounters {
    /// Adds to the counters (no row touched when both are zero).
    public static func add(_ txn: LeaseTransaction, allocations: Int = 0, releases: Int = 0) throws {
        if allocations > 0 { try txn.increment(MetaKey.allocationsTotal, by: Int64(allocations)) }
        if releases > 0 { try txn.increment(MetaKey.releasesTotal, by: Int64(releases)) }
    }

    /// (allocations, releases) since the store was created.
    public static func read(_ txn: LeaseTransaction) throws -> (allocations: Int64, releases: Int64) {
        (try value(txn, MetaKey.allocationsTotal), try value(txn, MetaKey.releasesTotal))
    }

    private static func value(_ txn: LeaseTransaction, _ key: MetaKey) throws -> Int64 {
        try txn.meta(key).flatMap(Int64.init) ?? 0
    }
}
