import Addressing
import CNI
import IPAM
import LeaseService

/// Turns leases into the IPAM result host-local would print for them:
/// one `ips` entry per lease (prefix from its subnet, gateway from its range),
/// the configured routes, and `dns` from `resolvConf`.
public struct IPAMResultBuilder {
    public var config: IPAMConfig

    public init(config: IPAMConfig) { self.config = config }

    public func result(for leases: [Lease], dns: CNIResult.DNS?) -> CNIResult {
        let ips = leases.sorted { $0.rangeSetIndex < $1.rangeSetIndex }.compactMap { lease -> CNIResult.IPConfig? in
            guard let range = config.range(of: lease.address, rangeSet: lease.rangeSetIndex),
                  let address = IPNetwork(address: lease.address, prefixLength: range.subnet.prefixLength) else { return nil }
            return CNIResult.IPConfig(address: address, gateway: range.gateway)
        }
        let routes = config.routes.map { CNIResult.Route(dst: $0.destination, gw: $0.gateway) }
        return CNIResult(ips: ips, routes: routes, dns: dns ?? CNIResult.DNS())
    }

    /// The DNS section from `resolvConf`, or empty.
    public func dns() throws -> CNIResult.DNS {
        guard let path = config.resolvConf else { return CNIResult.DNS() }
        return try ResolvConf.load(path: path)
    }
}
