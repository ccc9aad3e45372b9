/// Who holds a live address, as far as the kernel can say: a bridge port's
/// alias names the container, a namespace its path and interface.
public struct LiveHolder: Sendable, Hashable {
    public var containerID: String?
    public var ifname: String?
    public var netns: String?

    public init(containerID: String? = nil, ifname: String? = nil, netns: String? = nil) {
        self.containerID = containerID
        self.ifname = ifname
        self.netns = netns
    }
}
