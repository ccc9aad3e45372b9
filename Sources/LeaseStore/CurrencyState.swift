/// What a currency stamp is made of, read in one statement: every ADD and DEL
/// reads it once or twice, inside the store lock, so it costs one prepared
/// statement instead of five.
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
    static let currencyStateSQL = """
        SELECT (SELECT value FROM meta WHERE key = ?1), (SELECT value FROM meta WHERE key = ?2),
               (SELECT count(*) FROM leases), (SELECT value FROM meta WHERE key = ?3),
               (SELECT count(*) FROM meta WHERE key = ?4)
        """

    /// Identity, generation, lease count, lease epoch and restore marker, as this transaction sees them.
    public func currencyState() throws(StoreError) -> CurrencyState {
        checkOpen()
        var state = CurrencyState(storeID: nil, generation: 0, leaseCount: 0, leaseEpoch: 0, restored: false)
        var generationText: String?
        try connection.query(Self.currencyStateSQL, [.text(MetaKey.storeID.rawValue), .text(MetaKey.generation.rawValue),
                                                     .text(MetaKey.leaseEpoch.rawValue), .text(MetaKey.restoredAt.rawValue)]) { stmt in
            state.storeID = stmt.isNull(0) ? nil : stmt.text(0)
            generationText = stmt.isNull(1) ? nil : stmt.text(1)
            state.leaseCount = Int(stmt.int(2))
            state.leaseEpoch = stmt.isNull(3) ? 0 : Int64(stmt.text(3) ?? "0") ?? 0
            state.restored = stmt.int(4) > 0
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
