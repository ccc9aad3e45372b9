/// An etcd transaction: if every comparison holds, run `success`, else `failure`,
/// atomically. This is the only way Holdfast changes shared state, so that a
/// claim can never overwrite another node's claim.
public struct EtcdTxn: Sendable, Hashable {
    public var compare: [EtcdCompare]
    public var success: [EtcdOperation]
    public var failure: [EtcdOperation]

    public init(compare: [EtcdCompare], success: [EtcdOperation], failure: [EtcdOperation] = []) {
        self.compare = compare
        self.success = success
        self.failure = failure
    }
}

/// One comparison of a transaction's guard.
public struct EtcdCompare: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        /// `.createRevision(0)` with `.equal` means "the key does not exist".
        case createRevision(Int64)
        case modRevision(Int64)
        case version(Int64)
        case value(String)
    }
    public enum Result: String, Sendable, Hashable {
        case equal = "EQUAL", notEqual = "NOT_EQUAL", greater = "GREATER", less = "LESS"
    }
    public var key: String
    public var target: Target
    public var result: Result

    public init(key: String, _ target: Target, _ result: Result = .equal) {
        self.key = key
        self.target = target
        self.result = result
    }

    /// The key does not exist.
    public static func absent(_ key: String) -> EtcdCompare { EtcdCompare(key: key, .createRevision(0)) }
}

/// One request inside a transaction.
public enum EtcdOperation: Sendable, Hashable {
    case put(key: String, value: String)
    case range(key: String, prefix: Bool = false)
    case delete(key: String, prefix: Bool = false)
}

/// What a transaction did.
public struct EtcdTxnResult: Sendable, Hashable {
    /// Whether the comparisons held (so `success` ran).
    public var succeeded: Bool
    public var revision: Int64
    /// One entry per operation that ran; `.range` entries carry the keys read.
    public var responses: [EtcdOperationResult]
}

/// The result of one operation inside a transaction.
public enum EtcdOperationResult: Sendable, Hashable {
    case range([EtcdKeyValue])
    case put
    case delete(deleted: Int64)
}
