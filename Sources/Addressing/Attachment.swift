/// An attachment: `(CNI_CONTAINERID, CNI_IFNAME)`, the unit ADD creates and
/// DEL removes, and what GC's `cni.dev/valid-attachments` lists.
///
/// Here, below both the CNI protocol and the lease service, so that the lease
/// service names its holders without importing CNI.
public struct Attachment: Sendable, Hashable, Codable {
    public var containerID: String
    public var ifname: String
    public init(containerID: String, ifname: String) {
        self.containerID = containerID
        self.ifname = ifname
    }
}
