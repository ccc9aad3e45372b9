import Addressing
import CMnl
import Glibc

/// A network interface as RTM_NEWLINK describes it.
///
/// Carries what the plugin needs to recognise its own objects and reconcile:
/// the kind (`"bridge"`, `"veth"`), the bridge it is enslaved to, and for a
/// veth the peer's ifindex and the id of the namespace the peer lives in.
public struct Link: Sendable, Hashable {
    public var index: Int
    public var name: String
    /// IFLA_INFO_KIND: `"bridge"`, `"veth"`, ...; nil for physical devices and loopback.
    public var kind: String?
    public var mtu: Int
    public var mac: MACAddress?
    /// The raw `ifi_flags` (IFF_UP, IFF_PROMISC, IFF_LOWER_UP...).
    public var flags: UInt32
    /// IFLA_MASTER: the bridge this link is a port of.
    public var masterIndex: Int?
    /// IFLA_LINK_NETNSID: for a veth whose peer lives in another namespace, that
    /// namespace's id as seen from this one (see `NetlinkSocket.nsid(of:)`).
    public var linkNetnsID: Int32?
    /// IFLA_LINK: for a veth, the peer's ifindex (in the peer's namespace).
    public var peerIndex: Int?
    /// Port settings when the link is a bridge port (IFLA_INFO_SLAVE_DATA).
    public var bridgePort: BridgePortSettings?
    /// IFLA_BR_VLAN_FILTERING, for bridges.
    public var vlanFiltering: Bool?
    /// IFLA_IFALIAS: free text an owner attached to the link (`ip link set alias`).
    public var alias: String?

    public init(index: Int, name: String, kind: String? = nil, mtu: Int, mac: MACAddress? = nil, flags: UInt32 = 0,
                masterIndex: Int? = nil, linkNetnsID: Int32? = nil, peerIndex: Int? = nil,
                bridgePort: BridgePortSettings? = nil, vlanFiltering: Bool? = nil) {
        self.index = index
        self.name = name
        self.kind = kind
        self.mtu = mtu
        self.mac = mac
        self.flags = flags
        self.masterIndex = masterIndex
        self.linkNetnsID = linkNetnsID
        self.peerIndex = peerIndex
        self.bridgePort = bridgePort
        self.vlanFiltering = vlanFiltering
    }

    /// IFF_UP: administratively up.
    public var isUp: Bool { flags & UInt32(IFF_UP) != 0 }
    /// IFF_PROMISC.
    public var isPromiscuous: Bool { flags & UInt32(IFF_PROMISC) != 0 }

    /// Decodes an RTM_NEWLINK message.
    init(message nlh: UnsafePointer<nlmsghdr>) throws(NetlinkError) {
        let info = try familyHeader(nlh, as: ifinfomsg.self)
        let tb = try AttributeTable(message: nlh, offset: MemoryLayout<ifinfomsg>.size)
        guard let name = tb.string(IFLA_IFNAME) else {
            throw NetlinkError(operation: "parse RTM_NEWLINK", kind: .malformedReply("no IFLA_IFNAME"))
        }
        index = Int(info.ifi_index)
        self.name = name
        flags = info.ifi_flags
        mtu = Int(tb.u32(IFLA_MTU) ?? 0)
        alias = tb.string(IFLA_IFALIAS)
        mac = tb.bytes(IFLA_ADDRESS).flatMap { MACAddress(bytes: $0) }
        masterIndex = tb.u32(IFLA_MASTER).map(Int.init)
        linkNetnsID = tb.s32(IFLA_LINK_NETNSID)
        peerIndex = tb.u32(IFLA_LINK).map(Int.init).flatMap { $0 == 0 ? nil : $0 }
        if let linkinfo = tb.nested(IFLA_LINKINFO) {
            kind = linkinfo.string(IFLA_INFO_KIND)
            if kind == "bridge", let data = linkinfo.nested(IFLA_INFO_DATA) {
                vlanFiltering = data.u8(IFLA_BR_VLAN_FILTERING).map { $0 != 0 }
            }
            if linkinfo.string(IFLA_INFO_SLAVE_KIND) == "bridge", let data = linkinfo.nested(IFLA_INFO_SLAVE_DATA) {
                bridgePort = BridgePortSettings(
                    hairpin: data.u8(IFLA_BRPORT_MODE).map { $0 != 0 },
                    learning: data.u8(IFLA_BRPORT_LEARNING).map { $0 != 0 },
                    unicastFlood: data.u8(IFLA_BRPORT_UNICAST_FLOOD).map { $0 != 0 },
                    isolated: data.u8(IFLA_BRPORT_ISOLATED).map { $0 != 0 })
            }
        }
    }
}

/// Bridge port flags (`bridge link set dev X hairpin on learning off ...`).
/// nil leaves a flag unchanged when setting, and means "not reported" when read.
public struct BridgePortSettings: Sendable, Hashable {
    /// IFLA_BRPORT_MODE: reflect frames back out of the port they came in on,
    /// so a container can reach itself through a service address.
    public var hairpin: Bool?
    /// IFLA_BRPORT_LEARNING: learn source MACs on this port.
    public var learning: Bool?
    /// IFLA_BRPORT_UNICAST_FLOOD: flood unknown unicast to this port.
    public var unicastFlood: Bool?
    /// IFLA_BRPORT_ISOLATED: isolated ports cannot talk to each other.
    public var isolated: Bool?

    public init(hairpin: Bool? = nil, learning: Bool? = nil, unicastFlood: Bool? = nil, isolated: Bool? = nil) {
        self.hairpin = hairpin
        self.learning = learning
        self.unicastFlood = unicastFlood
        self.isolated = isolated
    }
}
