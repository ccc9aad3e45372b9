#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import Glibc
import IPAM
import Netlink

/// Reads the kernel's view of a bridge network: which ports the bridge has,
/// which addresses are configured on the container end of each, and which
/// lease namespaces still exist. This is the evidence reconcile acts on, so
/// it reports failure rather than guessing: a partial read is `.failed`, which
/// makes the planner refuse every release.
public struct KernelInventory {
    public let netlink: NetlinkSocket
    /// Where `netnsPaths(for:)` looks for named namespaces: `/run/netns` but in
    /// tests, which point it at a directory of their own so a mock socket is not
    /// asked about the host's real namespaces.
    public let netnsDirectory: String

    public init(netlink: NetlinkSocket, netnsDirectory: String = KernelInventory.namedNetnsDirectory) {
        self.netlink = netlink
        self.netnsDirectory = netnsDirectory
    }

    /// The bridge and its ports; nil when no such bridge exists.
    public func ports(ofBridge name: String) throws(NetlinkError) -> (bridge: Link, ports: [BridgePort])? {
        guard let bridge = try netlink.link(named: name) else { return nil }
        return (bridge, try netlink.bridgePorts(bridgeIndex: bridge.index).map(BridgePort.init))
    }

    /// Addresses configured on the peers of `ports`, read without entering any
    /// namespace: one address dump per peer namespace (IFA_TARGET_NETNSID),
    /// filtered to the peer's ifindex. Link-local IPv6 addresses are skipped:
    /// they are not ours to hand out.
    public func observedAddresses(on ports: [BridgePort]) throws(NetlinkError) -> [ObservedAddress] {
        var byNamespace: [Int32?: [BridgePort]] = [:]
        for port in ports where port.link.peerIndex != nil { byNamespace[port.link.linkNetnsID, default: []].append(port) }
        var observed: [ObservedAddress] = []
        // Namespaces in a fixed order (the host's first, then by id): the dumps
        // then go out in the same order every run, which a replayed (test) socket
        // needs and which makes the result's order reproducible.
        let order = byNamespace.keys.sorted { ($0.map(Int64.init) ?? .min) < ($1.map(Int64.init) ?? .min) }
        for nsid in order {
            let group = byNamespace[nsid] ?? []
            let addresses: [InterfaceAddress]
            if let nsid {
                do {
                    addresses = try netlink.addresses(inNetnsID: nsid)
                } catch where error.errno == EINVAL {
                    // The peer's namespace is being destroyed (its id no longer
                    // resolves) and its veth with it: nothing live can be there.
                    // (Checked: during that teardown the port still exists and still
                    // names the id, so "does the port still point there" cannot
                    // tell this apart from other causes of EINVAL.)
                    continue
                }
            } else {
                addresses = try netlink.addresses()
            }
            for port in group {
                for a in addresses where a.linkIndex == port.link.peerIndex && !Self.isLinkLocal(a.address.address) {
                    observed.append(ObservedAddress(address: a.address.address, hostInterface: port.link.name,
                                                    hostIfindex: port.link.index, netnsID: nsid.map { String($0) }))
                }
            }
        }
        return observed
    }

    /// The full inventory for reconcile. Never throws: any failure becomes
    /// `.failed(reason)` with whatever was observed before it.
    public func collect(bridge name: String, leaseNetnsPaths: [String]) -> Inventory {
        let existing = Set(leaseNetnsPaths.filter(Self.isNetworkNamespace))
        do {
            guard let (_, ports) = try ports(ofBridge: name) else {
                return Inventory(status: .failed("bridge \(name) does not exist"), observed: [], existingNetnsPaths: existing)
            }
            return Inventory(status: .complete, observed: try observedAddresses(on: ports), existingNetnsPaths: existing)
        } catch {
            return Inventory(status: .failed("reading bridge \(name): \(error)"), observed: [], existingNetnsPaths: existing)
        }
    }

    /// Whether `path` is (still) a network namespace: a missing path or anything
    /// else proves the namespace is gone only when `open` says so.
    public static func isNetworkNamespace(_ path: String) -> Bool {
        guard let ns = try? NetworkNamespace.open(path: path) else { return false }
        ns.close()
        return true
    }

    static func isLinkLocal(_ a: IPAddress) -> Bool {
        if case .v6(let v6) = a { return v6.high >> 54 == 0x3fa }  // fe80::/10
        return false
    }
}
