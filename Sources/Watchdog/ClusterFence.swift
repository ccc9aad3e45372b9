import Addressing
import Cluster
import Etcd

/// The watchdog's side of cluster mode: before the termination action runs,
/// a fence record for (node, boot id) goes to the cluster's etcd, so other
/// nodes may reclaim this node's blocks once the documented bound has passed
/// (`BlockClaimer.reclaimAfter`). If it cannot be written, the local fence
/// still stands and no other node ever reclaims on it.
public struct ClusterFence: Sendable {
    public var network: String
    public var cluster: ClusterConfig

    /// Reads the network config or conflist the runtime uses.
    public init(configPath: String) throws(ConfigFieldError) {
        let loaded = try ClusterNetworkFile.load(path: configPath)
        network = loaded.network
        cluster = loaded.cluster
    }

    /// Publishes the fence; returns the etcd key, or throws why it could not.
    func publish(bootID: String, actionTimeoutSeconds: Int64, reason: String) throws(ClaimError) -> String {
        let claimer = BlockClaimer(cluster: cluster, network: network, bootID: bootID)
        try claimer.publishFence(actionTimeoutSeconds: actionTimeoutSeconds, reason: reason)
        return claimer.keys.fence(node: cluster.nodeName, bootID: bootID)
    }
}
