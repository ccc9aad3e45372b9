import Addressing
import CMnl
import Glibc

extension RequestBuilder {
    /// `ip link show dev NAME` (one RTM_GETLINK by name, acknowledged).
    public static func getLink(named name: String) throws(NetlinkError) -> NetlinkMessage {
        try validate(name: name, "ip link show dev \(name)")
        let w = MessageWriter(type: RTM_GETLINK, flags: NLM_F_ACK)
        w.extraHeader(linkHeader())
        w.string(IFLA_IFNAME, name)
        w.u32(IFLA_EXT_MASK, UInt32(RTEXT_FILTER_SKIP_STATS))
        return w.finish()
    }

    /// `ip link show` for one ifindex.
    public static func getLink(index: Int) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_GETLINK, flags: NLM_F_ACK)
        w.extraHeader(linkHeader(index: index))
        w.u32(IFLA_EXT_MASK, UInt32(RTEXT_FILTER_SKIP_STATS))
        return w.finish()
    }

    /// `ip link show [master BRIDGE]` as a dump. With strict checking the
    /// kernel filters by IFLA_MASTER itself.
    public static func dumpLinks(masterIndex: Int? = nil) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_GETLINK, flags: NLM_F_DUMP)
        w.extraHeader(linkHeader())
        w.u32(IFLA_EXT_MASK, UInt32(RTEXT_FILTER_SKIP_STATS))
        if let masterIndex { w.u32(IFLA_MASTER, UInt32(masterIndex)) }
        return w.finish()
    }

    /// The common start of `ip link add NAME [mtu N] [address MAC] type ...`:
    /// RTM_NEWLINK (create, EEXIST if present) with the name, MTU and MAC.
    private static func newLink(name: String, mtu: Int?, mac: MACAddress?) -> MessageWriter {
        let w = MessageWriter(type: RTM_NEWLINK, flags: create)
        w.extraHeader(linkHeader())
        w.string(IFLA_IFNAME, name)
        if let mtu { w.u32(IFLA_MTU, UInt32(mtu)) }
        if let mac { w.bytes(IFLA_ADDRESS, mac.bytes) }
        return w
    }

    /// `ip link add NAME [mtu N] [address MAC] type bridge [vlan_filtering 0|1]`
    public static func addBridge(name: String, mtu: Int? = nil, mac: MACAddress? = nil,
                                 vlanFiltering: Bool? = nil) throws(NetlinkError) -> NetlinkMessage {
        try validate(name: name, "ip link add \(name) type bridge")
        let w = newLink(name: name, mtu: mtu, mac: mac)
        w.nest(IFLA_LINKINFO) {
            w.string(IFLA_INFO_KIND, "bridge")
            if let vlanFiltering {
                w.nest(IFLA_INFO_DATA) { w.u8(IFLA_BR_VLAN_FILTERING, vlanFiltering ? 1 : 0) }
            }
        }
        return w.finish()
    }

    /// `ip link add NAME [mtu N] [address MAC] type veth peer name PEER [mtu N] [address MAC] [netns FD]`
    ///
    /// With `peerNetnsFD` the kernel creates the peer directly in that
    /// namespace (IFLA_NET_NS_FD inside VETH_INFO_PEER), so there is no window
    /// where the container end exists on the host and no separate move.
    public static func addVethPair(name: String, peerName: String, mtu: Int? = nil, mac: MACAddress? = nil,
                                   peerMAC: MACAddress? = nil, peerNetnsFD: Int32? = nil) throws(NetlinkError) -> NetlinkMessage {
        let operation = "ip link add \(name) type veth peer name \(peerName)"
        try validate(name: name, operation)
        try validate(name: peerName, operation)
        let w = newLink(name: name, mtu: mtu, mac: mac)
        w.nest(IFLA_LINKINFO) {
            w.string(IFLA_INFO_KIND, "veth")
            w.nest(IFLA_INFO_DATA) {
                w.nest(VETH_INFO_PEER) {
                    // The peer's attributes follow its own ifinfomsg, as in a top-level RTM_NEWLINK.
                    w.raw(linkHeader())
                    w.string(IFLA_IFNAME, peerName)
                    if let mtu { w.u32(IFLA_MTU, UInt32(mtu)) }
                    if let peerMAC { w.bytes(IFLA_ADDRESS, peerMAC.bytes) }
                    if let peerNetnsFD { w.u32(IFLA_NET_NS_FD, UInt32(bitPattern: peerNetnsFD)) }
                }
            }
        }
        return w.finish()
    }

    /// `ip link del dev NAME` / `ip link del` by ifindex.
    public static func deleteLink(index: Int? = nil, name: String? = nil) throws(NetlinkError) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_DELLINK, flags: NLM_F_ACK)
        w.extraHeader(linkHeader(index: index ?? 0))
        if let name {
            try validate(name: name, "ip link del dev \(name)")
            w.string(IFLA_IFNAME, name)
        }
        return w.finish()
    }

    /// `ip link set dev X up|down|promisc on|off` : one flag bit, others untouched (ifi_change).
    public static func setFlag(index: Int, flag: UInt32, on: Bool) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_NEWLINK, flags: NLM_F_ACK)
        w.extraHeader(linkHeader(index: index, flags: on ? flag : 0, change: flag))
        return w.finish()
    }

    /// `ip link set dev X mtu N | master BR | nomaster | address MAC | netns FD` :
    /// one RTM_NEWLINK on an existing ifindex carrying whichever attributes are set.
    public static func setLink(index: Int, mtu: Int? = nil, masterIndex: Int? = nil, mac: MACAddress? = nil,
                               netnsFD: Int32? = nil, alias: String? = nil, up: Bool? = nil,
                               name: String? = nil) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_NEWLINK, flags: NLM_F_ACK)
        let upFlag = UInt32(IFF_UP)
        w.extraHeader(linkHeader(index: index, flags: up == true ? upFlag : 0, change: up == nil ? 0 : upFlag))
        // With a non-zero index the kernel finds the link by index, so IFLA_IFNAME renames it.
        if let name { w.string(IFLA_IFNAME, name) }
        if let alias { w.string(IFLA_IFALIAS, alias) }
        if let mtu { w.u32(IFLA_MTU, UInt32(mtu)) }
        if let masterIndex { w.u32(IFLA_MASTER, UInt32(masterIndex)) }
        if let mac { w.bytes(IFLA_ADDRESS, mac.bytes) }
        if let netnsFD { w.u32(IFLA_NET_NS_FD, UInt32(bitPattern: netnsFD)) }
        return w.finish()
    }

    /// `bridge link set dev X hairpin on|off learning on|off flood on|off isolated on|off`
    ///
    /// RTM_SETLINK with family AF_BRIDGE on the port: the kernel hands
    /// IFLA_PROTINFO (nested, NLA_F_NESTED) to the port's master bridge.
    public static func setBridgePort(index: Int, _ settings: BridgePortSettings) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_SETLINK, flags: NLM_F_ACK)
        w.extraHeader(linkHeader(family: AF_BRIDGE, index: index))
        w.nest(IFLA_PROTINFO) {
            if let v = settings.hairpin { w.u8(IFLA_BRPORT_MODE, v ? 1 : 0) }
            if let v = settings.learning { w.u8(IFLA_BRPORT_LEARNING, v ? 1 : 0) }
            if let v = settings.unicastFlood { w.u8(IFLA_BRPORT_UNICAST_FLOOD, v ? 1 : 0) }
            if let v = settings.isolated { w.u8(IFLA_BRPORT_ISOLATED, v ? 1 : 0) }
        }
        return w.finish()
    }

    /// `bridge vlan add|del dev PORT vid N [pvid] [untagged]`
    ///
    /// RTM_SETLINK (add) or RTM_DELLINK (del), family AF_BRIDGE, with
    /// IFLA_AF_SPEC { IFLA_BRIDGE_VLAN_INFO }; the port's master applies it.
    public static func bridgeVLAN(add: Bool, portIndex: Int, vid: UInt16, pvid: Bool, untagged: Bool) throws(NetlinkError) -> NetlinkMessage {
        guard (1...4094).contains(vid) else {
            throw NetlinkError(operation: "bridge vlan add dev \(portIndex) vid \(vid)", kind: .invalidArgument("vid must be 1...4094"))
        }
        let w = MessageWriter(type: add ? RTM_SETLINK : RTM_DELLINK, flags: NLM_F_ACK)
        w.extraHeader(linkHeader(family: AF_BRIDGE, index: portIndex))
        w.nest(IFLA_AF_SPEC) {
            var info = bridge_vlan_info()
            info.vid = vid
            if pvid { info.flags |= UInt16(BRIDGE_VLAN_INFO_PVID) }
            if untagged { info.flags |= UInt16(BRIDGE_VLAN_INFO_UNTAGGED) }
            withUnsafeBytes(of: info) { w.bytes(IFLA_BRIDGE_VLAN_INFO, Array($0)) }
        }
        return w.finish()
    }

    /// `bridge vlan show dev PORT`: AF_BRIDGE link dump asking for VLAN info.
    public static func dumpBridgeVLANs() -> NetlinkMessage {
        let w = MessageWriter(type: RTM_GETLINK, flags: NLM_F_DUMP)
        w.extraHeader(linkHeader(family: AF_BRIDGE))
        w.u32(IFLA_EXT_MASK, UInt32(RTEXT_FILTER_BRVLAN))
        return w.finish()
    }
}
