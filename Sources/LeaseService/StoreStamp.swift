import LeaseStore

/// The lease store's state as last written by a Holdfast plugin, kept outside
/// the store in the network's `ProofFile` (`holdfast-store <id> <generation>
/// <leases> <epoch>`).
///
/// It is how ADD proves, in O(1) and inside the allocation lock, that the store
/// is current: every plugin write stamps the proof with the identity, the
/// generation it commits, the lease count and the lease epoch (a trigger-kept
/// count of every change to the leases table, by any client), in the same
/// transaction. If the store was deleted (new id), emptied or edited behind our
/// back (count, epoch or generation differ), restored from a backup (older generation), or a writer
/// died between stamping and committing (newer generation), the stamp no longer
/// matches, and ADD reads the kernel in full before it allocates.
public struct StoreStamp: Equatable, Sendable {
    public var storeID: String
    public var generation: Int64
    public var leaseCount: Int
    public var leaseEpoch: Int64

    static let prefix = "holdfast-store"

    /// The stamp as one line of text.
    public var alias: String { "\(Self.prefix) \(storeID) \(generation) \(leaseCount) \(leaseEpoch)" }

    public init(storeID: String, generation: Int64, leaseCount: Int, leaseEpoch: Int64) {
        self.storeID = storeID
        self.generation = generation
        self.leaseCount = leaseCount
        self.leaseEpoch = leaseEpoch
    }

    /// Parses `alias`; nil for anything that is not exactly a stamp.
    public init?(alias: String?) {
        let words = (alias ?? "").utf8.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
        guard words.count == 5, words[0] == Self.prefix, let g = Int64(words[2]), let c = Int(words[3]),
              let e = Int64(words[4]) else { return nil }
        self.init(storeID: words[1], generation: g, leaseCount: c, leaseEpoch: e)
    }

    /// The committed state, as the next transaction will see it; nil for a store
    /// no plugin has stamped yet.
    public static func committed(_ txn: LeaseTransaction) throws -> StoreStamp? {
        try committed(txn.currencyState())
    }

    /// The committed stamp in `state`; nil for a store no plugin has stamped yet.
    public static func committed(_ state: CurrencyState) -> StoreStamp? {
        guard let id = state.storeID else { return nil }
        return StoreStamp(storeID: id, generation: state.generation, leaseCount: state.leaseCount,
                          leaseEpoch: state.leaseEpoch)
    }

    /// The state this transaction will commit (see `PendingGeneration` for why
    /// the generation is known before COMMIT). Call it last in the transaction.
    public static func pending(_ txn: LeaseTransaction) throws -> StoreStamp {
        var state = try txn.currencyState()
        if state.storeID == nil {
            var generator = SystemRandomNumberGenerator()
            let id = (0..<4).map { _ in String(UInt32.random(in: .min ... .max, using: &generator), radix: 16) }.joined()
            try txn.setMeta(.storeID, id)
            state.storeID = id
        }
        let generation = try txn.reserveCommitGeneration()
        // Writing meta rows changes neither the lease count nor the lease epoch.
        return StoreStamp(storeID: state.storeID!, generation: generation.value, leaseCount: state.leaseCount,
                          leaseEpoch: state.leaseEpoch)
    }
}
