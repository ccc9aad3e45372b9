/// What a currency stamp is made of. Every ADD and DEL reads it once or twice,
/// inside the store lock, from one scan of the small `meta` table, whatever
/// the size of the pool. (It was one SELECT of five subqueries, which compiled
/// to three times the bytecode, with a `count(*)` of the leases that read every
/// page of the table: 1,100 page reads, 2.4 ms, per ADD and DEL at 60,000
/// leases. The epoch, which every change to the leases table moves, tells all
/// the count did; docs/benchmarks.md, "seventh pass".)
public struct CurrencyState: Sendable, Hashable {
    /// The store's random identity; nil until a plugin first stamped it.
    public var storeID: String?
    public var generation: Int64
    public var leaseEpoch: Int64
    /// A restore marker is set: the store must be compared with the kernel in full.
    public var restored: Bool
}

extension LeaseTransaction {
    static let metaScanSQL = "SELECT key, value FROM meta"

    /// Identity, generation, lease epoch and restore marker, as this transaction sees them.
    public func currencyState() throws(StoreError) -> CurrencyState {
        checkOpen()
        var state = CurrencyState(storeID: nil, generation: 0, leaseEpoch: 0, restored: false)
        var generationText: String?
        try connection.query(Self.metaScanSQL) { stmt in
            switch stmt.text(0) {
            case MetaKey.storeID.rawValue?: state.storeID = stmt.text(1)
            case MetaKey.generation.rawValue?: generationText = stmt.text(1)
            case MetaKey.leaseEpoch.rawValue?: state.leaseEpoch = Int64(stmt.text(1) ?? "0") ?? 0
            case MetaKey.restoredAt.rawValue?: state.restored = true
            default: break
            }
        }
        if let generationText {
            guard let g = Int64(generationText) else {
                throw .corrupt(path: connection.path, detail: "meta generation is \"\(generationText)\", not an integer")
            }
            state.generation = g
        }
        return state
    }
}
