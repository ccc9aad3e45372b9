#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import Glibc
import CNI
import IPAM
import LeaseService
import KernelInventory
import Netlink

/// One ADD: bridge, veth, lease, container addresses and routes, gateway,
/// masquerade. Every change registers its undo step first, so a failure at any
/// point leaves no veth, lease or rule behind.
struct AddOperation {
    let request: CNIRequest
    let attachment: Attachment
    let config: BridgeConfig
    let netnsPath: String
    /// Opens a netlink socket in the calling thread's namespace: the host's for
    /// the bridge and veth, the container's inside `namespace.run` (a socket is
    /// bound to the namespace it is opened in). Injected by tests (a
    /// `NetlinkSocket` over a recording transport), like `DelOperation`'s.
    var openNetlink: () throws(NetlinkError) -> NetlinkSocket = { () throws(NetlinkError) in try NetlinkSocket() }

    init(request: CNIRequest) throws {
        self.request = request
        attachment = try request.environment.requireAttachment()
        config = try BridgeConfig(config: request.config.raw)
        guard let netns = request.environment.netns else {
            throw CNIError.invalidEnvironment("required env variables [CNI_NETNS] missing")
        }
        netnsPath = netns
    }

    /// The steps in order; each one that changes the kernel or the store
    /// registers its undo in `undo` before the next step runs.
    func run() throws -> CNIResult {
        // Validate everything that can be validated before touching the kernel.
        let namespace = try ContainerNamespace.open(netnsPath)
        let ipam = try IPAMBackend(request: request)
        let nl = try openNetlink()
        var undo = Rollback()
        do {
            // The bridge is shared by every attachment and never rolled back.
            let bridge = try BridgeDevice.ensure(config, netlink: nl)
            let bridgeAddresses = try nl.addresses(linkIndex: bridge.index)
            let veth = try createVeth(on: bridge, in: namespace, netlink: nl, undo: &undo)
            let ipamResult = try allocate(ipam, veth: veth, bridge: bridge, bridgeAddresses: bridgeAddresses,
                                          netlink: nl, undo: &undo)
            let containerLink = try namespace.run {
                try ContainerInterface.configure(name: attachment.ifname, ips: ipamResult.ips, routes: ipamResult.routes,
                                                 enableDAD: config.enableDAD, openNetlink: openNetlink)
            }
            let containerMAC = containerLink.mac ?? veth.containerMAC
            try configureHost(for: ipamResult, bridge: bridge, bridgeAddresses: bridgeAddresses, port: veth.host.name,
                              containerMAC: containerMAC, netlink: nl, undo: &undo)
            // The bridge's MAC is re-read: a bridge without a fixed address takes its
            // lowest port's, so the value read before the port was added is stale.
            let bridgeMAC = try nl.link(index: bridge.index)?.mac ?? bridge.mac
            return result(ipamResult, bridge: bridge, bridgeMAC: bridgeMAC, host: veth.host, containerMAC: containerMAC)
        } catch {
            let failures = undo.run()
            if !failures.isEmpty { Log.error("ADD rollback incomplete: \(failures.joined(separator: "; "))") }
            throw error
        }
    }

    /// The host end of the new pair and the MAC given to the container end.
    struct Veth {
        var host: Link
        var containerMAC: MACAddress
    }

    /// The veth pair, its container end born inside the netns, attached to the
    /// bridge. A leftover host end from an earlier, interrupted ADD of this
    /// attachment is rebuilt. An interface already named `ifname` in the netns
    /// is an error; it is looked for only when the kernel refuses the pair
    /// (EEXIST), which saves every ADD a namespace switch and a lookup.
    private func createVeth(on bridge: Link, in namespace: ContainerNamespace, netlink nl: NetlinkSocket,
                            undo: inout Rollback) throws -> Veth {
        let hostName = InterfaceName.hostVeth(containerID: attachment.containerID, ifname: attachment.ifname)
        if let stale = try nl.link(named: hostName) {
            // Only our own leftover goes: the name is a hash, and a link that merely
            // shares it (another attachment's alias, not a veth) is never deleted.
            guard HostPort.isLeftover(stale, of: attachment) else {
                throw BridgeError.foreignLink(name: hostName, alias: stale.alias, kind: stale.kind)
            }
            try nl.deleteLink(index: stale.index)
        }
        let containerMAC = MACAddress.randomLocal()
        var refused: NetlinkError?
        do {
            try nl.addVethPair(name: hostName, peerName: attachment.ifname, mtu: config.mtu ?? bridge.mtu,
                               peerMAC: containerMAC, peerNetnsFD: namespace.fd)
        } catch {
            refused = error
        }
        if let refused {
            if refused.errno == EEXIST, try namespace.run({ try openNetlink().link(named: attachment.ifname) }) != nil {
                throw BridgeError.interfaceExists(name: attachment.ifname, netns: netnsPath)
            }
            throw refused
        }
        undo.add("delete \(hostName)") { try? nl.deleteLink(named: hostName) }
        guard let host = try nl.link(named: hostName) else {
            throw BridgeError.system("veth \(hostName) vanished after creation", ENODEV)
        }
        try HostPort.attach(host, to: bridge, attachment: attachment, config: config, netlink: nl)
        return Veth(host: host, containerMAC: containerMAC)
    }

    /// The addresses: an in-process lease (recording veth, ifindex and MAC,
    /// after the kernel guard proved the store current) or delegated IPAM.
    private func allocate(_ ipam: IPAMBackend, veth: Veth, bridge: Link, bridgeAddresses: [InterfaceAddress],
                          netlink nl: NetlinkSocket, undo: inout Rollback) throws -> CNIResult {
        let hostName = veth.host.name
        let details = AttachmentDetails(netns: netnsPath, hostInterface: hostName, hostIfindex: veth.host.index,
                                        containerMAC: veth.containerMAC.description, bootID: BootID.current)
        var kernelGuard: KernelGuard?
        if case .inProcess(let service) = ipam {
            kernelGuard = KernelGuard(bridge: bridge, bridgeAddresses: bridgeAddresses,
                                      inventory: KernelInventory(netlink: nl), config: service.config,
                                      location: service.store.location, now: service.now(), ownPort: hostName)
        }
        let outcome = try ipam.allocate(request, attachment: attachment, details: details, guard: kernelGuard)
        if outcome.newlyAllocated {
            // The veth goes first, so its address is never live without a lease.
            undo.add("release lease") {
                try LeaseRollback.run(deleteLink: { try nl.deleteLink(named: hostName) },
                                      linkExists: { try nl.link(named: hostName) != nil },
                                      release: { _ = try ipam.release(request, attachment: attachment) })
            }
        }
        var ipamResult = outcome.result
        guard !ipamResult.ips.isEmpty else { throw CNIError.invalidConfig("IPAM returned no addresses") }
        if config.isDefaultGateway { ipamResult.routes += DefaultRoutes.missing(in: ipamResult) }
        return ipamResult
    }

    /// The host side: gateway addresses on the bridge, masquerade, MAC spoof check.
    private func configureHost(for ipamResult: CNIResult, bridge: Link, bridgeAddresses: [InterfaceAddress],
                               port hostName: String, containerMAC: MACAddress, netlink nl: NetlinkSocket,
                               undo: inout Rollback) throws {
        if config.isGateway {
            try BridgeDevice.ensureGateways(for: ipamResult.ips, on: bridge, existing: bridgeAddresses, config: config, netlink: nl)
        }
        if config.ipMasq {
            let masquerade = Masquerade(network: request.config.name, subnets: ipamResult.ips.map(\.address.network))
            let addresses = ipamResult.ips.map(\.address.address)
            try masquerade.add(addresses)
            undo.add("remove masquerade") { try masquerade.remove(addresses) }
        }
        if config.macspoofchk {
            let check = MacSpoofCheck(network: request.config.name)
            try check.add(port: hostName, mac: containerMAC)
            undo.add("remove MAC spoof check") { check.remove(port: hostName, mac: containerMAC) }
        }
    }

    /// The result: bridge, host veth, container interface (index 2).
    private func result(_ ipamResult: CNIResult, bridge: Link, bridgeMAC: MACAddress?, host: Link,
                        containerMAC: MACAddress) -> CNIResult {
        var result = ipamResult
        result.interfaces = [
            CNIResult.Interface(name: bridge.name, mac: bridgeMAC),
            CNIResult.Interface(name: host.name, mac: host.mac),
            CNIResult.Interface(name: attachment.ifname, mac: containerMAC, sandbox: netnsPath),
        ]
        for i in result.ips.indices { result.ips[i].interface = 2 }
        return result
    }
}
