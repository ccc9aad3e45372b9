/// What a currency stamp is made of. Every ADD and DEL reads it once or twice,
/// inside the store lock, from two of the cheapest statements SQLite compiles: a
/// scan of the small `meta` table and a row count. (One SELECT of five
/// subqueries compiled to three times the bytecode; a short-lived plugin
/// compiles every statement afresh.)
public struct CurrencyState: Sendable, Hashable {
    /// The store's random identity; nil until a plugin first stamped it.
    public var storeID: String?
    public var generation: Int64
    public var leaseCount: Int
    public var leaseEpoch: Int64
    /// A restore marker is set: the store must be compared with the kernel in full.
    public var restored: Bool
}

extension LeaseTransaction {
    static let metaScanSQL = "SELECT key, value FROM meta"
    static let leaseCountSQL = "SELECT count(*) FROM leases"

    /// Identity, generation, lease count, lease epoch and restore marker, as this transaction sees them.
    public func currencyState() throws(StoreError) -> CurrencyState {
        checkOpen()
        var state = CurrencyState(storeID: nil, generation: 0, leaseCount: 0, leaseEpoch: 0, restored: false)
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
        state.leaseCount = Int(try connection.scalarInt(Self.leaseCountSQL) ?? 0)
        if let generationText {
            guard let g = Int64(generationText) else {
                throw .corrupt(path: connection.path, detail: "meta generation is \"\(generationText)\", not an integer")
            }
            state.generation = g
        }
        return state
    }
}
