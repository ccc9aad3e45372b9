import Addressing

/// Where a cluster network's records live in etcd.
///
/// ```
/// <prefix>/v1/<network>/nodes/<node>            registration (NodeRecord)
/// <prefix>/v1/<network>/blocks/<a.b.c.d_len>    owner (BlockRecord); its create revision is the ownership epoch
/// <prefix>/v1/<network>/fences/<node>/<bootID>  a watchdog fence (FenceRecord)
/// ```
/// One version segment so a later layout can live beside this one.
public struct ClusterKeys: Sendable, Hashable {
    public var root: String

    public init(prefix: String, network: String) {
        root = "\(prefix)/v1/\(network)"
    }

    public var nodes: String { "\(root)/nodes/" }
    public var blocks: String { "\(root)/blocks/" }
    public var fences: String { "\(root)/fences/" }

    public func node(_ name: String) -> String { nodes + name }
    public func block(_ cidr: IPNetwork) -> String { blocks + Self.blockName(cidr) }
    public func fences(of node: String) -> String { "\(fences)\(node)/" }
    public func fence(node: String, bootID: String) -> String { "\(fences)\(node)/\(bootID)" }

    /// `10.200.0.64/26` -> `10.200.0.64_26`; `fd00::/120` -> `fd00::_120`.
    public static func blockName(_ cidr: IPNetwork) -> String { "\(cidr.address)_\(cidr.prefixLength)" }

    /// The block a key under `blocks` names, nil for anything else.
    public func blockCIDR(fromKey key: String) -> IPNetwork? {
        guard key.hasPrefix(blocks) else { return nil }
        let name = key.dropFirst(blocks.count)
        guard let sep = name.lastIndex(of: "_") else { return nil }
        return IPNetwork("\(name[..<sep])/\(name[name.index(after: sep)...])")
    }
}
