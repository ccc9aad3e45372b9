import Addressing
import CNI

/// `isDefaultGateway`: a default route per family via that family's gateway,
/// unless the IPAM result already routes the default.
enum DefaultRoutes {
    static func missing(in result: CNIResult) -> [CNIResult.Route] {
        var out: [CNIResult.Route] = []
        for isV4 in [true, false] {
            guard let gw = result.ips.first(where: { $0.address.address.isIPv4 == isV4 })?.gateway else { continue }
            let hasDefault = result.routes.contains { $0.dst.prefixLength == 0 && $0.dst.address.isIPv4 == isV4 }
            if !hasDefault, let dst = IPNetwork(isV4 ? "0.0.0.0/0" : "::/0") { out.append(CNIResult.Route(dst: dst, gw: gw)) }
        }
        return out
    }
}
