import Addressing
import CNI
import LeaseService
import KernelInventory
import Netlink

/// One DEL: best effort and idempotent. Every step runs even when an earlier
/// one failed; the first failure is reported after all have been tried. Works
/// without the container's netns: the host veth name is derived from the
/// attachment, and masquerade entries come from the lease or `prevResult`.
struct DelOperation {
    let request: CNIRequest
    /// Opens the host namespace's netlink socket; injected by tests (a
    /// `NetlinkSocket` over a recording transport).
    var openNetlink: () throws(NetlinkError) -> NetlinkSocket = { () throws(NetlinkError) in try NetlinkSocket() }
    /// Starts the child that deletes a retired veth; injected by tests.
    var startReaper: (String) throws -> Void = VethRetirement.spawnReaper

    func run() throws {
        let attachment = try request.environment.requireAttachment()
        let config = try BridgeConfig(config: request.config.raw)
        var failures: [any Error] = []
        // A broken store (corrupt, lock deadline) must not keep DEL from tearing
        // down the kernel side: remember the error, clean up, report it last.
        let ipam: IPAMBackend?
        do { ipam = try IPAMBackend(request: request) } catch { ipam = nil; failures.append(error) }
        let addresses = ipam?.knownAddresses(request, attachment: attachment) ?? request.previousAddresses

        // 1. The veth: retired (inert at once, deleted by a detached child) when
        //    its namespace is reachable, else deleted here; deleting the host end
        //    removes the container end with it.
        let hostName = InterfaceName.hostVeth(containerID: attachment.containerID, ifname: attachment.ifname)
        var vethGone = false
        var netlink: NetlinkSocket?
        do {
            let nl = try openNetlink()
            netlink = nl
            let outcome: VethRetirement.Outcome
            do {
                outcome = try VethRetirement.retire(hostName: hostName, attachment: attachment,
                                                    netnsPath: request.environment.netns, netlink: nl,
                                                    openNetlink: openNetlink, startReaper: startReaper)
            } catch {
                outcome = .notPossible("\(error)")
            }
            if case .notPossible = outcome {
                try Tolerate.missing { () throws(NetlinkError) in try nl.deleteLink(named: hostName) }
            }
            vethGone = true
        } catch { failures.append(error) }

        // 2. Masquerade entries, found from the lease, so no netns is needed.
        if config.ipMasq && !addresses.isEmpty {
            let subnets = addresses.compactMap { IPNetwork(address: $0, prefixLength: $0.bitWidth) }
            do { try Masquerade(network: request.config.name, subnets: subnets).remove(addresses) } catch { failures.append(error) }
        }

        // 3. The MAC spoof check entries (MAC from the lease, else prevResult).
        if config.macspoofchk {
            let mac = ipam?.knownMAC(request, attachment: attachment) ?? request.previousContainerMAC
            MacSpoofCheck(network: request.config.name).remove(port: hostName, mac: mac)
        }

        // 4. The lease (or the delegated IPAM's DEL), re-stamping the bridge so
        //    the next ADD can still prove the store current; but only when the
        //    veth is really gone: if its address may still be live, the store
        //    must not claim to be current, so the next ADD checks the kernel.
        if let ipam {
            do {
                var kernelGuard: KernelGuard?
                if vethGone, case .inProcess(let service) = ipam, let nl = netlink,
                   let bridge = try? nl.link(named: config.bridge), bridge.kind == "bridge" {
                    kernelGuard = KernelGuard(bridge: bridge, inventory: KernelInventory(netlink: nl), config: service.config,
                                              location: service.store.location, now: service.now(), ownPort: nil)
                }
                try ipam.release(request, attachment: attachment, kernelGuard: kernelGuard)
            } catch { failures.append(error) }
        }

        if let first = failures.first {
            if failures.count > 1 { Log.error("DEL: \(failures.count) steps failed: \(failures.map { "\($0)" }.joined(separator: "; "))") }
            throw first
        }
    }
}
