import Addressing
import CMnl
import Glibc

extension NetlinkSocket {
    // MARK: Reading links

    /// The link called `name`, or nil when there is none (ENODEV).
    public func link(named name: String) throws(NetlinkError) -> Link? {
        // ip link show dev NAME
        try getLink(RequestBuilder.getLink(named: name), "ip link show dev \(name)")
    }

    /// The link with ifindex `index`, or nil when there is none.
    public func link(index: Int) throws(NetlinkError) -> Link? {
        // ip link show (ifindex INDEX)
        try getLink(RequestBuilder.getLink(index: index), "ip link show index \(index)")
    }

    /// Every link in the socket's namespace.
    public func links() throws(NetlinkError) -> [Link] {
        // ip link show
        var result: [Link] = []
        try dump(RequestBuilder.dumpLinks(), operation: "ip link show", onRestart: { result.removeAll() }) { nlh throws(NetlinkError) in
            result.append(try Link(message: nlh))
        }
        return result
    }

    /// The ports of a bridge: links whose IFLA_MASTER is `bridgeIndex`.
    ///
    /// The kernel filters (strict dump), and the result is filtered again here
    /// so an older kernel that ignores the filter cannot return foreign links.
    public func bridgePorts(bridgeIndex: Int) throws(NetlinkError) -> [Link] {
        // ip link show master BRIDGE
        var result: [Link] = []
        try dump(RequestBuilder.dumpLinks(masterIndex: bridgeIndex),
                 operation: "ip link show master \(bridgeIndex)", onRestart: { result.removeAll() }) { nlh throws(NetlinkError) in
            let link = try Link(message: nlh)
            if link.masterIndex == bridgeIndex { result.append(link) }
        }
        return result
    }

    private func getLink(_ message: NetlinkMessage, _ operation: String) throws(NetlinkError) -> Link? {
        var found: Link?
        do {
            try execute(message, operation: operation) { nlh throws(NetlinkError) in
                if nlh.pointee.nlmsg_type == UInt16(RTM_NEWLINK) { found = try Link(message: nlh) }
            }
        } catch where error.isNoDevice {
            return nil
        }
        return found
    }

    // MARK: Creating and deleting

    /// Creates a bridge. Fails with `isExists` when a link of that name exists
    /// (of any kind: the caller decides whether an existing one is acceptable).
    /// `vlanFiltering` nil leaves the kernel default (off); a kernel built
    /// without CONFIG_BRIDGE_VLAN_FILTERING rejects any explicit value with
    /// EOPNOTSUPP, as it does for `ip link add ... vlan_filtering 0`.
    public func addBridge(name: String, mtu: Int? = nil, mac: MACAddress? = nil, vlanFiltering: Bool? = nil) throws(NetlinkError) {
        // ip link add NAME [mtu N] [address MAC] type bridge [vlan_filtering 0|1]
        try execute(RequestBuilder.addBridge(name: name, mtu: mtu, mac: mac, vlanFiltering: vlanFiltering),
                    operation: "ip link add \(name) type bridge")
    }

    /// Creates a veth pair; with `peerNetnsFD` the peer is born in that
    /// namespace (the container end never appears on the host).
    /// Fails with `isExists` if either name is taken in its namespace.
    public func addVethPair(name: String, peerName: String, mtu: Int? = nil, mac: MACAddress? = nil,
                            peerMAC: MACAddress? = nil, peerNetnsFD: Int32? = nil) throws(NetlinkError) {
        // ip link add NAME [mtu N] type veth peer name PEER [mtu N] netns FD
        try execute(RequestBuilder.addVethPair(name: name, peerName: peerName, mtu: mtu, mac: mac,
                                               peerMAC: peerMAC, peerNetnsFD: peerNetnsFD),
                    operation: "ip link add \(name) type veth peer name \(peerName)")
    }

    /// Deletes a link (for a veth, both ends). Throws `isNoDevice` if absent.
    public func deleteLink(index: Int) throws(NetlinkError) {
        // ip link del dev (ifindex INDEX)
        try execute(RequestBuilder.deleteLink(index: index), operation: "ip link del index \(index)")
    }

    /// Deletes a link by name. Throws `isNoDevice` if absent.
    public func deleteLink(named name: String) throws(NetlinkError) {
        // ip link del dev NAME
        try execute(RequestBuilder.deleteLink(name: name), operation: "ip link del dev \(name)")
    }

    // MARK: Setting attributes

    /// Brings a link up or down.
    public func setLink(index: Int, up: Bool) throws(NetlinkError) {
        // ip link set dev IFACE up|down
        try execute(RequestBuilder.setFlag(index: index, flag: UInt32(IFF_UP), on: up),
                    operation: "ip link set dev \(index) \(up ? "up" : "down")")
    }

    public func setMTU(index: Int, mtu: Int) throws(NetlinkError) {
        // ip link set dev IFACE mtu N
        try execute(RequestBuilder.setLink(index: index, mtu: mtu), operation: "ip link set dev \(index) mtu \(mtu)")
    }

    /// Enslaves a link to a bridge; `masterIndex` nil releases it (`nomaster`).
    public func setMaster(index: Int, masterIndex: Int?) throws(NetlinkError) {
        // ip link set dev IFACE master BRIDGE | nomaster
        try execute(RequestBuilder.setLink(index: index, masterIndex: masterIndex ?? 0),
                    operation: "ip link set dev \(index) " + (masterIndex.map { "master \($0)" } ?? "nomaster"))
    }

    /// Enslaves a link, labels it and brings it up in one request, saving two
    /// round trips on the plugin's hot path. The alias (IFLA_IFALIAS, at most 255
    /// bytes) survives in the kernel, so whoever reads the link later (reconcile
    /// after the lease store was lost) learns which attachment owns it.
    public func attach(index: Int, masterIndex: Int, alias: String?, up: Bool) throws(NetlinkError) {
        // ip link set dev IFACE master BRIDGE alias TEXT up
        try execute(RequestBuilder.setLink(index: index, masterIndex: masterIndex, alias: alias.map { String(decoding: $0.utf8.prefix(255), as: UTF8.self) }, up: up),
                    operation: "ip link set dev \(index) master \(masterIndex)\(alias.map { " alias \($0)" } ?? "")\(up ? " up" : "")")
    }

    /// Takes a link off its bridge and down in one request (the kernel releases
    /// the master before it applies the flags).
    public func detach(index: Int) throws(NetlinkError) {
        // ip link set dev IFACE nomaster down
        try execute(RequestBuilder.setLink(index: index, masterIndex: 0, up: false),
                    operation: "ip link set dev \(index) nomaster down")
    }

    /// Renames a link that is down (the kernel refuses to rename a veth that is
    /// up) and relabels it in the same request.
    public func rename(index: Int, to name: String, alias: String) throws(NetlinkError) {
        // ip link set dev IFACE name NAME alias TEXT
        try execute(RequestBuilder.setLink(index: index, alias: String(decoding: alias.utf8.prefix(255), as: UTF8.self), name: name),
                    operation: "ip link set dev \(index) name \(name) alias \(alias)")
    }

    /// Sets the link's alias (IFLA_IFALIAS, at most 255 bytes).
    public func setAlias(index: Int, alias: String) throws(NetlinkError) {
        // ip link set dev IFACE alias TEXT
        try execute(RequestBuilder.setLink(index: index, alias: String(decoding: alias.utf8.prefix(255), as: UTF8.self)),
                    operation: "ip link set dev \(index) alias \(alias)")
    }

    public func setMAC(index: Int, mac: MACAddress) throws(NetlinkError) {
        // ip link set dev IFACE address MAC
        try execute(RequestBuilder.setLink(index: index, mac: mac), operation: "ip link set dev \(index) address \(mac)")
    }

    /// Moves a link into the namespace open at `fd`.
    public func setNetns(index: Int, fd: Int32) throws(NetlinkError) {
        // ip link set dev IFACE netns FD
        try execute(RequestBuilder.setLink(index: index, netnsFD: fd), operation: "ip link set dev \(index) netns \(fd)")
    }

    public func setPromiscuous(index: Int, on: Bool) throws(NetlinkError) {
        // ip link set dev IFACE promisc on|off
        try execute(RequestBuilder.setFlag(index: index, flag: UInt32(IFF_PROMISC), on: on),
                    operation: "ip link set dev \(index) promisc \(on ? "on" : "off")")
    }

    /// Sets bridge port flags; nil fields are left unchanged. The link must be
    /// a bridge port (EOPNOTSUPP / EINVAL otherwise).
    public func setBridgePort(index: Int, hairpin: Bool? = nil, learning: Bool? = nil,
                              unicastFlood: Bool? = nil, isolated: Bool? = nil) throws(NetlinkError) {
        // bridge link set dev IFACE hairpin on|off learning on|off flood on|off isolated on|off
        let settings = BridgePortSettings(hairpin: hairpin, learning: learning, unicastFlood: unicastFlood, isolated: isolated)
        try execute(RequestBuilder.setBridgePort(index: index, settings), operation: "bridge link set dev \(index)")
    }

    /// Adds a VLAN to a bridge port (the bridge needs `vlanFiltering: true` for it to matter).
    public func addBridgeVLAN(portIndex: Int, vid: UInt16, pvid: Bool = false, untagged: Bool = false) throws(NetlinkError) {
        // bridge vlan add dev PORT vid N [pvid] [untagged]
        try execute(RequestBuilder.bridgeVLAN(add: true, portIndex: portIndex, vid: vid, pvid: pvid, untagged: untagged),
                    operation: "bridge vlan add dev \(portIndex) vid \(vid)")
    }

    public func deleteBridgeVLAN(portIndex: Int, vid: UInt16) throws(NetlinkError) {
        // bridge vlan del dev PORT vid N
        try execute(RequestBuilder.bridgeVLAN(add: false, portIndex: portIndex, vid: vid, pvid: false, untagged: false),
                    operation: "bridge vlan del dev \(portIndex) vid \(vid)")
    }

    /// The VLANs configured on one bridge port (or on the bridge itself).
    public func bridgeVLANs(portIndex: Int) throws(NetlinkError) -> [BridgeVLAN] {
        // bridge vlan show dev PORT
        var result: [BridgeVLAN] = []
        try dump(RequestBuilder.dumpBridgeVLANs(), operation: "bridge vlan show", onRestart: { result.removeAll() }) { nlh throws(NetlinkError) in
            let info = try familyHeader(nlh, as: ifinfomsg.self)
            guard Int(info.ifi_index) == portIndex else { return }
            let tb = try AttributeTable(message: nlh, offset: MemoryLayout<ifinfomsg>.size)
            guard let spec = tb[IFLA_AF_SPEC] else { return }
            // IFLA_AF_SPEC repeats IFLA_BRIDGE_VLAN_INFO, so walk it instead of using a table.
            try forEachAttribute(in: spec) { type, payload throws(NetlinkError) in
                guard type == IFLA_BRIDGE_VLAN_INFO, payload.count >= MemoryLayout<bridge_vlan_info>.size else { return }
                let v = payload.loadUnaligned(as: bridge_vlan_info.self)
                result.append(BridgeVLAN(vid: v.vid, pvid: v.flags & UInt16(BRIDGE_VLAN_INFO_PVID) != 0,
                                         untagged: v.flags & UInt16(BRIDGE_VLAN_INFO_UNTAGGED) != 0))
            }
        }
        return result
    }
}

/// One VLAN entry of a bridge port.
public struct BridgeVLAN: Sendable, Hashable {
    public var vid: UInt16
    public var pvid: Bool
    public var untagged: Bool

    public init(vid: UInt16, pvid: Bool, untagged: Bool) {
        self.vid = vid
        self.pvid = pvid
        self.untagged = untagged
    }
}
