import Addressing
import CNI
import Glibc
import Netlink

/// The container end of the veth, configured from inside its namespace.
enum ContainerInterface {
    /// Adds the addresses, brings the link up and adds the routes. Must run
    /// inside the container's namespace (see `ContainerNamespace.run`):
    /// `openNetlink` is called there, so the socket belongs to that namespace.
    /// It is `AddOperation.openNetlink`, so tests can hand in a mock socket.
    static func configure(name: String, ips: [CNIResult.IPConfig], routes: [CNIResult.Route],
                          enableDAD: Bool,
                          openNetlink: () throws(NetlinkError) -> NetlinkSocket) throws -> Link {
        let nl = try openNetlink()
        guard let link = try nl.link(named: name) else { throw BridgeError.system("container interface \(name) missing", ENODEV) }
        if ips.contains(where: { !$0.address.address.isIPv4 }) {
            // Accept router advertisements off: routes come from the result only.
            try? Sysctl.set("net/ipv6/conf/\(name)/accept_ra", "0")
        }
        for ip in ips {
            // ip addr add ADDRESS/PREFIX dev NAME [nodad]
            try nl.addAddress(ip.address, linkIndex: link.index, noDAD: !enableDAD && !ip.address.address.isIPv4)
        }
        // ip link set NAME up
        try nl.setLink(index: link.index, up: true)
        for route in routes {
            let gateway = route.gw ?? ips.first { $0.address.address.isIPv4 == route.dst.address.isIPv4 }?.gateway
            // ip route add DST via GW dev NAME
            let r = Netlink.Route(destination: route.dst, gateway: gateway, outputIndex: link.index, mtu: route.mtu,
                                  advmss: route.advmss, priority: route.priority.map { UInt32($0) },
                                  table: route.table.map { UInt32($0) }, scope: route.scope.map { UInt8($0) })
            // A retried ADD or an earlier plugin in the chain may have added it.
            try Tolerate.exists { () throws(NetlinkError) in try nl.addRoute(r) }
        }
        return link
    }
}
