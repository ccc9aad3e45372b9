import Addressing
import CNI
import IPAMPlugin
import Netlink

/// One CHECK: the container interface, its addresses and routes, the host
/// veth on the bridge, the lease and the masquerade entries must all match
/// `prevResult`.
struct CheckOperation {
    let request: CNIRequest
    /// Opens a netlink socket in the calling thread's namespace (the host's,
    /// then the container's inside `namespace.run`); injected by tests (a
    /// `NetlinkSocket` over a recording transport), like `DelOperation`'s.
    var openNetlink: () throws(NetlinkError) -> NetlinkSocket = { () throws(NetlinkError) in try NetlinkSocket() }

    func run() throws {
        let attachment = try request.environment.requireAttachment()
        let config = try BridgeConfig(config: request.config.raw)
        guard let prev = request.config.prevResult else { throw CNIError.invalidConfig("CHECK needs prevResult") }
        guard let netnsPath = request.environment.netns else {
            throw CNIError.invalidEnvironment("required env variables [CNI_NETNS] missing")
        }
        let namespace = try ContainerNamespace.open(netnsPath)
        let ipam = try IPAMBackend(request: request)
        let nl = try openNetlink()

        guard let bridge = try nl.link(named: config.bridge), bridge.kind == "bridge" else {
            throw BridgeError.checkFailed("bridge \(config.bridge) is missing")
        }
        let hostName = InterfaceName.hostVeth(containerID: attachment.containerID, ifname: attachment.ifname)
        guard let host = try nl.link(named: hostName) else { throw BridgeError.checkFailed("host veth \(hostName) is missing") }
        guard host.masterIndex == bridge.index else { throw BridgeError.checkFailed("host veth \(hostName) is not on \(config.bridge)") }
        guard host.isUp else { throw BridgeError.checkFailed("host veth \(hostName) is down") }

        let expectedIPs = prev.ips.map(\.address)
        let expectedRoutes = prev.routes
        try namespace.run {
            let inner = try openNetlink()
            guard let link = try inner.link(named: attachment.ifname) else {
                throw BridgeError.checkFailed("interface \(attachment.ifname) is missing in \(netnsPath)")
            }
            guard link.isUp else { throw BridgeError.checkFailed("interface \(attachment.ifname) is down") }
            let have = Set(try inner.addresses(linkIndex: link.index).map(\.address))
            for ip in expectedIPs where !have.contains(ip) {
                throw BridgeError.checkFailed("address \(ip) is missing on \(attachment.ifname)")
            }
            let routes = try inner.routes()
            for route in expectedRoutes where !routes.contains(where: { $0.destination.network == route.dst.network }) {
                throw BridgeError.checkFailed("route to \(route.dst) is missing in \(netnsPath)")
            }
        }
        try ipam.check(request, attachment: attachment)
        if config.ipMasq {
            let masquerade = Masquerade(network: request.config.name, subnets: [])
            for ip in expectedIPs where !masquerade.contains(ip.address) {
                throw BridgeError.checkFailed("masquerade entry for \(ip.address) is missing")
            }
        }
    }
}
