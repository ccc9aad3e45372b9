import LeaseStore

/// The lease store's state as last written by a Holdfast plugin, kept on the
/// bridge itself (its alias, `holdfast-store <id> <generation> <leases> <epoch>`).
///
/// It is how ADD proves, in O(1) and inside the allocation lock, that the store
/// is current: every plugin write stamps the bridge with the identity, the
/// generation it commits, the lease count and the lease epoch (a trigger-kept
/// count of every change to the leases table, by any client), in the same
/// transaction. If the store was deleted (new id), emptied or edited behind our
/// back (count, epoch or generation differ), restored from a backup (older generation), or a writer
/// died between stamping and committing (newer generation), the stamp no longer
/// matches, and ADD reads the kernel in full before it allocates.
struct StoreStamp: Equatable {
    var storeID: String
    var generation: Int64
    var leaseCount: Int
    var leaseEpoch: Int64

    static let prefix = "holdfast-store"
    /// The store's meta key holding its random identity.
    static let idKey = "store_id"

    var alias: String { "\(Self.prefix) \(storeID) \(generation) \(leaseCount) \(leaseEpoch)" }

    init(storeID: String, generation: Int64, leaseCount: Int, leaseEpoch: Int64) {
        self.storeID = storeID
        self.generation = generation
        self.leaseCount = leaseCount
        self.leaseEpoch = leaseEpoch
    }

    init?(alias: String?) {
        let words = (alias ?? "").split(separator: " ")
        guard words.count == 5, words[0] == Self.prefix, let g = Int64(words[2]), let c = Int(words[3]),
              let e = Int64(words[4]) else { return nil }
        self.init(storeID: String(words[1]), generation: g, leaseCount: c, leaseEpoch: e)
    }

    /// The committed state, as the next transaction will see it; nil for a store
    /// no plugin has stamped yet.
    static func committed(_ txn: LeaseTransaction) throws -> StoreStamp? {
        guard let id = try txn.meta(idKey) else { return nil }
        return StoreStamp(storeID: id, generation: try txn.generation(), leaseCount: try txn.leaseCount(),
                          leaseEpoch: try txn.leaseEpoch())
    }

    /// The state this transaction will commit. It writes a row itself, so the
    /// store's generation is bumped exactly once, to `generation() + 1`.
    static func pending(_ txn: LeaseTransaction) throws -> StoreStamp {
        var id = try txn.meta(idKey)
        if id == nil {
            var generator = SystemRandomNumberGenerator()
            id = (0..<4).map { _ in String(UInt32.random(in: .min ... .max, using: &generator), radix: 16) }.joined()
            try txn.setMeta(idKey, id)
        }
        try txn.setMeta("stamped_generation", String(try txn.generation() + 1))
        return StoreStamp(storeID: id!, generation: try txn.generation() + 1, leaseCount: try txn.leaseCount(),
                          leaseEpoch: try txn.leaseEpoch())
    }
}
