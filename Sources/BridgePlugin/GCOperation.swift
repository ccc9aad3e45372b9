import Addressing
import CNI
import IPAMPlugin
import Netlink

/// GC (CNI 1.1.0): releases leases of attachments the runtime no longer lists
/// (the IPAM layer refuses an empty list or a mass release), then removes
/// those attachments' host veths and masquerade entries, and sweeps veth
/// pairs a DEL retired (`VethRetirement`) that no reaper deleted.
struct GCOperation {
    let request: CNIRequest
    /// Opens the host namespace's netlink socket; injected by tests (a
    /// `NetlinkSocket` over a recording transport), like `DelOperation`'s.
    var openNetlink: () throws(NetlinkError) -> NetlinkSocket = { () throws(NetlinkError) in try NetlinkSocket() }

    func run() throws {
        let config = try BridgeConfig(config: request.config.raw)
        guard let valid = request.config.validAttachments else {
            throw CNIError.invalidConfig("GC needs \"cni.dev/valid-attachments\"")
        }
        let ipam = try IPAMBackend(request: request)
        let released = try ipam.garbageCollect(request, valid: Set(valid))
        let nl = try openNetlink()
        for lease in released {
            let name = lease.hostInterface ?? InterfaceName.hostVeth(containerID: lease.containerID, ifname: lease.ifname)
            do { try Tolerate.missing { () throws(NetlinkError) in try nl.deleteLink(named: name) } } catch { Log.error("GC: delete \(name): \(error)") }
        }
        // Pairs a DEL retired whose reaper was killed: inert, but stale all the
        // same, so swept even when no lease was released.
        do { _ = try VethRetirement.sweep(netlink: nl) } catch { Log.error("GC: retired veths: \(error)") }
        if config.ipMasq, !released.isEmpty {
            let addresses = released.map(\.address)
            do { try Masquerade(network: request.config.name, subnets: []).remove(addresses) } catch { Log.error("GC: \(error)") }
        }
    }
}
