import LeaseStore

/// The lease store's state as last written by a Holdfast plugin, kept outside
/// the store in the network's `ProofFile` (`holdfast-store <id> <generation>
/// <epoch>`).
///
/// It is how ADD proves, in O(1) and inside the allocation lock, that the store
/// is current: every plugin write stamps the proof with the identity, the
/// generation it commits and the lease epoch (a trigger-kept count of every
/// change to the leases table, by any client; moved on as well when a missing
/// trigger is put back), in the same transaction. If the store was deleted (new
/// id), emptied or edited behind our back (epoch or generation differ),
/// restored from a backup (older generation), or a writer
/// died between stamping and committing (newer generation), the stamp no longer
/// matches, and ADD reads the kernel in full before it allocates.
public struct StoreStamp: Equatable, Sendable {
    public var storeID: String
    public var generation: Int64
    public var leaseEpoch: Int64

    static let prefix = "holdfast-store"

    /// The stamp as one line of text.
    public var alias: String { "\(Self.prefix) \(storeID) \(generation) \(leaseEpoch)" }

    public init(storeID: String, generation: Int64, leaseEpoch: Int64) {
        self.storeID = storeID
        self.generation = generation
        self.leaseEpoch = leaseEpoch
    }

    /// Parses `alias`; nil for anything that is not exactly a stamp, including
    /// the five-word stamps of earlier builds (which carried a lease count):
    /// an unparsable proof makes the next ADD compare the store with the
    /// kernel, the safe direction.
    public init?(alias: String?) {
        let words = (alias ?? "").utf8.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
        guard words.count == 4, words[0] == Self.prefix, let g = Int64(words[2]), let e = Int64(words[3]) else { return nil }
        self.init(storeID: words[1], generation: g, leaseEpoch: e)
    }

    /// The committed state, as the next transaction will see it; nil for a store
    /// no plugin has stamped yet.
    public static func committed(_ txn: LeaseTransaction) throws -> StoreStamp? {
        try committed(txn.currencyState())
    }

    /// The committed stamp in `state`; nil for a store no plugin has stamped yet.
    public static func committed(_ state: CurrencyState) -> StoreStamp? {
        guard let id = state.storeID else { return nil }
        return StoreStamp(storeID: id, generation: state.generation, leaseEpoch: state.leaseEpoch)
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
        // Writing meta rows does not move the lease epoch.
        return StoreStamp(storeID: state.storeID!, generation: generation.value, leaseEpoch: state.leaseEpoch)
    }
}
