#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A node's registration: which boot of which host claims blocks as this node.
///
/// Claims are conditioned on this key's mod revision, so a node whose
/// registration was changed (retired, or re-registered by a newer boot) can no
/// longer claim with a stale view.
public struct NodeRecord: Codable, Sendable, Hashable {
    public var node: String
    public var bootID: String
    public var address: String?
    /// Unix seconds of the registration (informational only: never a lease).
    public var registeredAt: Int64
    public init(node: String, bootID: String, address: String?, registeredAt: Int64) {
        self.node = node
        self.bootID = bootID
        self.address = address
        self.registeredAt = registeredAt
    }
}

/// A block's owner. Nothing here expires: a block moves only when its owner
/// releases it, an operator retires the node, or a fence is proven.
public struct BlockRecord: Codable, Sendable, Hashable {
    public var owner: String
    public var bootID: String
    public var claimedAt: Int64
    public init(owner: String, bootID: String, claimedAt: Int64) {
        self.owner = owner
        self.bootID = bootID
        self.claimedAt = claimedAt
    }
}

/// Written by holdfast-watchdog before it runs the termination action on
/// (node, bootID). `actionTimeoutSeconds` is the bound a reclaimer must wait.
public struct FenceRecord: Codable, Sendable, Hashable {
    public var node: String
    public var bootID: String
    public var fencedAt: Int64
    public var actionTimeoutSeconds: Int64
    public var reason: String
    public init(node: String, bootID: String, fencedAt: Int64, actionTimeoutSeconds: Int64, reason: String) {
        self.node = node
        self.bootID = bootID
        self.fencedAt = fencedAt
        self.actionTimeoutSeconds = actionTimeoutSeconds
        self.reason = reason
    }
}

extension Encodable {
    /// Compact JSON with sorted keys, as stored in etcd.
    func etcdJSON() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return (try? e.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension Decodable {
    /// Decodes a record stored in etcd; nil if it is not one.
    static func fromEtcd(_ text: String) -> Self? {
        try? JSONDecoder().decode(Self.self, from: Data(text.utf8))
    }

    /// `fromEtcd` for other modules (ipamctl).
    public static func fromEtcdValue(_ text: String) -> Self? { fromEtcd(text) }
}
