/// One key as etcd stores it, with the revisions that make compare-and-swap
/// possible. `createRevision` is the revision that created the key: it changes
/// only if the key is deleted and made again, so it serves as an ownership epoch.
public struct EtcdKeyValue: Sendable, Hashable {
    public var key: String
    public var value: String
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64

    public init(key: String, value: String, createRevision: Int64, modRevision: Int64, version: Int64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
    }
}

/// The keys a range read returned, and the store revision it read at.
public struct EtcdRangeResult: Sendable, Hashable {
    public var kvs: [EtcdKeyValue]
    public var revision: Int64
    /// True when a `limit` cut the answer short.
    public var more: Bool
}
