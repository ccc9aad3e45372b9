/// The generation a write transaction will commit, known before it commits.
///
/// `LeaseStore.write` bumps meta `generation` exactly once, after its body,
/// when the body changed any row. Currency stamps (written inside the
/// transaction, before COMMIT) must name the generation the store will have,
/// so they rely on that rule across targets; this type is where it is kept:
/// only `LeaseTransaction.reserveCommitGeneration()` makes one, and it makes
/// sure the transaction changes a row, so the bump happens.
public struct PendingGeneration: Sendable, Hashable, CustomStringConvertible {
    /// What `generation()` will read once the transaction has committed.
    public let value: Int64

    init(value: Int64) { self.value = value }
    public var description: String { String(value) }
}

extension LeaseTransaction {
    /// The generation this transaction commits. Writes meta `stamped_generation`
    /// (so the transaction changed a row and `write` bumps the generation once,
    /// to exactly `generation() + 1`). The row is written on every call: SQLite
    /// counts an update to the same value as a change, so the bump cannot be skipped.
    public func reserveCommitGeneration() throws(StoreError) -> PendingGeneration {
        let next = try generation() + 1
        try setMeta(.stampedGeneration, String(next))
        return PendingGeneration(value: next)
    }
}
