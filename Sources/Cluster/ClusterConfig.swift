import Addressing
import Etcd

/// The `ipam.cluster` object: address pools shared by every node through etcd,
/// which replaces `ranges`.
///
/// The same `etcd.prefix` on the same etcd is one cluster; networks inside it
/// are told apart by network name (see `ClusterKeys`).
public struct ClusterConfig: Sendable, Hashable {
    public var etcd: EtcdConfig
    /// Key prefix of this cluster in etcd, without a trailing slash, e.g. `/holdfast`.
    public var prefix: String
    /// At most one pool per address family; one address is taken from each.
    public var pools: [ClusterPool]
    /// This node's name in the cluster (default: the host name).
    public var nodeName: String
    /// This node's underlay address, the one other nodes route its blocks to.
    public var nodeAddress: IPAddress?

    public static let defaultPrefix = "/holdfast"

    public init(etcd: EtcdConfig, prefix: String = ClusterConfig.defaultPrefix, pools: [ClusterPool], nodeName: String,
                nodeAddress: IPAddress? = nil) {
        self.etcd = etcd
        self.prefix = prefix
        self.pools = pools
        self.nodeName = nodeName
        self.nodeAddress = nodeAddress
    }
}
