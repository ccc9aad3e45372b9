/// What the caller knows about the attachment's kernel objects when it
/// allocates, recorded in the lease so reconcile can later prove from kernel
/// state whether the holder still exists.
public struct AttachmentDetails: Sendable, Hashable {
    public var netns: String?
    public var hostInterface: String?
    public var hostIfindex: Int?
    public var containerMAC: String?
    public var bootID: String?
    public init(netns: String?, hostInterface: String? = nil, hostIfindex: Int? = nil,
                containerMAC: String? = nil, bootID: String? = nil) {
        self.netns = netns
        self.hostInterface = hostInterface
        self.hostIfindex = hostIfindex
        self.containerMAC = containerMAC
        self.bootID = bootID
    }
}
