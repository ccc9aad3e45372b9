import Addressing
import Netlink

/// One port of a bridge as the kernel shows it, with the attachment its alias
/// names (when Holdfast created it) and the addresses configured on its peer.
public struct BridgePort: Sendable, Hashable {
    public var link: Link
    /// Parsed from the alias `holdfast <containerID> <ifname>`; nil for ports
    /// Holdfast did not create (or created before aliases existed).
    public var containerID: String?
    public var ifname: String?

    public init(link: Link) {
        self.link = link
        let words = (link.alias ?? "").split(separator: " ", omittingEmptySubsequences: true)
        if words.count == 3, words[0] == "holdfast" {
            containerID = String(words[1])
            ifname = String(words[2])
        }
    }
}
