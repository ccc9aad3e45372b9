import Addressing
import CNI
import Glibc
import Netlink

/// The shared bridge: created on first use, with gateway addresses when the
/// config says `isGateway`.
enum BridgeDevice {
    /// Returns the bridge, creating it (and bringing it up) if needed. A racing
    /// ADD that creates it first is fine (`EEXIST` is re-read); an existing link
    /// of another kind is a config error.
    static func ensure(_ config: BridgeConfig, netlink nl: NetlinkSocket) throws -> Link {
        if let link = try nl.link(named: config.bridge) {
            guard link.kind == "bridge" else { throw BridgeError.notABridge(config.bridge) }
            if !link.isUp { try nl.setLink(index: link.index, up: true) }
            return link
        }
        // ip link add NAME type bridge [mtu N] [vlan_filtering 1]; losing a race with another ADD is fine.
        try Tolerate.exists { () throws(NetlinkError) in
            try nl.addBridge(name: config.bridge, mtu: config.mtu, vlanFiltering: config.vlan != nil ? true : nil)
        }
        guard var link = try nl.link(named: config.bridge) else { throw BridgeError.system("bridge \(config.bridge) vanished", ENODEV) }
        guard link.kind == "bridge" else { throw BridgeError.notABridge(config.bridge) }
        if !link.isUp {
            try nl.setLink(index: link.index, up: true)
            link = try nl.link(index: link.index) ?? link
        }
        return link
    }

    /// Puts each IP config's gateway on the bridge (as `gw/prefix`) and turns on
    /// forwarding for its family, as the reference plugin does for `isGateway`.
    /// With `forceAddress`, other addresses of that family in the same subnet are replaced.
    /// `existing` is the bridge's addresses as read earlier in this ADD.
    static func ensureGateways(for ips: [CNIResult.IPConfig], on bridge: Link, existing: [InterfaceAddress],
                               config: BridgeConfig, netlink nl: NetlinkSocket) throws {
        for ip in ips {
            guard let gw = ip.gateway, let want = IPNetwork(address: gw, prefixLength: ip.address.prefixLength) else { continue }
            if existing.contains(where: { $0.address == want }) { continue }
            let clashing = existing.filter { $0.address.address.isIPv4 == gw.isIPv4 && $0.address.network == want.network }
            if !clashing.isEmpty {
                guard config.forceAddress else {
                    throw BridgeError.addressConflict("bridge \(bridge.name) already has \(clashing[0].address) in \(want.network); "
                                                      + "set forceAddress to replace it")
                }
                for old in clashing { try? nl.deleteAddress(old.address, linkIndex: bridge.index) }
            }
            // ip addr add GW/PREFIX dev BRIDGE [nodad]; another ADD may have added it first.
            try Tolerate.exists { () throws(NetlinkError) in try nl.addAddress(want, linkIndex: bridge.index, noDAD: !gw.isIPv4) }
            try Sysctl.set(gw.isIPv4 ? "net/ipv4/ip_forward" : "net/ipv6/conf/all/forwarding", "1")
        }
    }
}

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
