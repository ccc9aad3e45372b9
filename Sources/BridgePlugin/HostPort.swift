import Addressing
import Netlink

/// The host end of the veth: enslaved to the bridge, labelled with its
/// attachment, port flags, VLAN, up.
enum HostPort {
    /// The alias written on the host veth: `holdfast <containerID> <ifname>`.
    /// Reconcile reads it back to attribute a live address to its container when
    /// the lease store was lost.
    static func alias(for attachment: Attachment) -> String {
        "holdfast \(attachment.containerID) \(attachment.ifname)"
    }

    /// Whether `link`, found under the attachment's host veth name, is this
    /// attachment's own leftover that ADD may delete and rebuild: it carries our
    /// alias, or it is a bare veth with no alias and no master (an ADD killed
    /// between creating the pair and attaching it, which sets the alias).
    static func isLeftover(_ link: Link, of attachment: Attachment) -> Bool {
        if link.alias == alias(for: attachment) { return true }
        return link.kind == "veth" && (link.alias ?? "").isEmpty && link.masterIndex == nil
    }

    static func attach(_ host: Link, to bridge: Link, attachment: Attachment, config: BridgeConfig,
                       netlink nl: NetlinkSocket) throws {
        // ip link set HOST master BRIDGE alias "holdfast ID IFNAME" up
        try nl.attach(index: host.index, masterIndex: bridge.index, alias: alias(for: attachment), up: true)
        if config.hairpinMode {
            // bridge link set dev HOST hairpin on
            try nl.setBridgePort(index: host.index, hairpin: true)
        }
        if config.promiscMode { try nl.setPromiscuous(index: bridge.index, on: true) }
        if let vlan = config.vlan {
            // bridge vlan add dev HOST vid VLAN pvid untagged; bridge vlan del dev HOST vid 1
            try nl.addBridgeVLAN(portIndex: host.index, vid: UInt16(vlan), pvid: true, untagged: true)
            try? nl.deleteBridgeVLAN(portIndex: host.index, vid: 1)
        }
    }
}
