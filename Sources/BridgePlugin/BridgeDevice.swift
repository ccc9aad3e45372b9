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
