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

    init(request: CNIRequest) throws {
        self.request = request
        attachment = try request.environment.requireAttachment()
        config = try BridgeConfig(json: request.config.bytes)
        guard let netns = request.environment.netns else {
            throw CNIError.invalidEnvironment("required env variables [CNI_NETNS] missing")
        }
        netnsPath = netns
    }

    func run() throws -> CNIResult {
        // 1. Validate everything that can be validated before touching the kernel.
        let namespace = try ContainerNamespace.open(netnsPath)
        let ipam = try IPAMBackend(request: request)
        let nl = try NetlinkSocket()
        var undo = Rollback()
        do {
            // 2. The bridge (shared by every attachment; never rolled back).
            let bridge = try BridgeDevice.ensure(config, netlink: nl)
            let bridgeAddresses = try nl.addresses(linkIndex: bridge.index)

            // 3. The veth pair, the container end born inside the netns. A leftover
            //    from an earlier, interrupted ADD of this attachment is rebuilt.
            let hostName = InterfaceName.hostVeth(containerID: attachment.containerID, ifname: attachment.ifname)
            if let stale = try nl.link(named: hostName) {
                // Only our own leftover goes: the name is a hash, and a link that merely
                // shares it (another attachment's alias, not a veth) is never deleted.
                guard HostPort.isLeftover(stale, of: attachment) else {
                    throw BridgeError.foreignLink(name: hostName, alias: stale.alias, kind: stale.kind)
                }
                try nl.deleteLink(index: stale.index)
            }
            if try namespace.run({ try NetlinkSocket().link(named: attachment.ifname) }) != nil {
                throw BridgeError.interfaceExists(name: attachment.ifname, netns: netnsPath)
            }
            let containerMAC = MACAddress.randomLocal()
            try nl.addVethPair(name: hostName, peerName: attachment.ifname, mtu: config.mtu ?? bridge.mtu,
                               peerMAC: containerMAC, peerNetnsFD: namespace.fd)
            undo.add("delete \(hostName)") { try? nl.deleteLink(named: hostName) }
            guard let host = try nl.link(named: hostName) else {
                throw BridgeError.system("veth \(hostName) vanished after creation", ENODEV)
            }
            try HostPort.attach(host, to: bridge, attachment: attachment, config: config, netlink: nl)

            // 4. Addresses: in-process lease (recording veth, ifindex, MAC) or delegated IPAM.
            let details = AttachmentDetails(netns: netnsPath, hostInterface: hostName, hostIfindex: host.index,
                                            containerMAC: containerMAC.description, bootID: BootID.current)
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

            // 5. Inside the container: addresses, link up, routes.
            let containerLink = try namespace.run {
                try ContainerInterface.configure(name: attachment.ifname, ips: ipamResult.ips, routes: ipamResult.routes,
                                                 enableDAD: config.enableDAD)
            }

            // 6. Gateway addresses on the bridge, forwarding, masquerade.
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
                try check.add(port: hostName, mac: containerLink.mac ?? containerMAC)
                undo.add("remove MAC spoof check") { check.remove(port: hostName, mac: containerLink.mac ?? containerMAC) }
            }

            // 7. The result: bridge, host veth, container interface (index 2).
            // The bridge's MAC is re-read: a bridge without a fixed address takes its
            // lowest port's, so the value read in step 2 is stale after the first port.
            let bridgeMAC = try nl.link(index: bridge.index)?.mac ?? bridge.mac
            var result = ipamResult
            result.interfaces = [
                CNIResult.Interface(name: bridge.name, mac: bridgeMAC),
                CNIResult.Interface(name: hostName, mac: host.mac),
                CNIResult.Interface(name: attachment.ifname, mac: containerLink.mac ?? containerMAC, sandbox: netnsPath),
            ]
            for i in result.ips.indices { result.ips[i].interface = 2 }
            return result
        } catch {
            let failures = undo.run()
            if !failures.isEmpty { Log.error("ADD rollback incomplete: \(failures.joined(separator: "; "))") }
            throw error
        }
    }
}
