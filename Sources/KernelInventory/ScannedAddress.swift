import Addressing

/// One address found configured inside a network namespace by `NamespaceScan`,
/// with what the namespace says about its holder.
public struct ScannedAddress: Sendable, Hashable {
    public var address: IPAddress
    /// The path the namespace was found under; a bind mount (`/run/netns/NAME`,
    /// which is what runtimes pass as CNI_NETNS) is preferred over `/proc/PID/ns/net`.
    public var netnsPath: String
    /// The interface holding the address, inside that namespace.
    public var ifname: String?
    public var ifindex: Int
    /// The namespace's nsfs inode (dev and inode identify it).
    public var inode: UInt64

    public init(address: IPAddress, netnsPath: String, ifname: String?, ifindex: Int, inode: UInt64) {
        self.address = address
        self.netnsPath = netnsPath
        self.ifname = ifname
        self.ifindex = ifindex
        self.inode = inode
    }
}
