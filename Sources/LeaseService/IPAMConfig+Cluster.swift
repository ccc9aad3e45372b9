import Addressing
import Cluster
import IPAM

extension IPAMConfig {
    /// The range a leased address belongs to, for its prefix length and
    /// gateway: the configured range, or in cluster mode the address's block
    /// (its first host is the block's gateway on this node's bridge).
    public func range(of address: IPAddress, rangeSet index: Int) -> IPRange? {
        // `index` comes from the store, where an edit can leave any number (-1
        // included): checked against both ends, never trusted as a subscript.
        guard let cluster else {
            guard rangeSets.indices.contains(index) else { return nil }
            return rangeSets[index].range(containing: address)
        }
        guard cluster.pools.indices.contains(index), let block = cluster.pools[index].blockIndex(of: address).flatMap(cluster.pools[index].block) else {
            return nil
        }
        return try? IPRange(subnet: block)
    }
}
