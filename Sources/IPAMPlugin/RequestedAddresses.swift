import Addressing
import CNI

/// The addresses a runtime asked for, from the three places host-local reads:
/// CNI_ARGS `IP=` (comma-separated), `args.cni.ips`, and `runtimeConfig.ips`
/// (the `ips` capability). Entries may carry a prefix (`10.0.0.5/24`); only the
/// address counts.
public enum RequestedAddresses {
    public static func parse(_ request: CNIRequest) throws(CNIError) -> [IPAddress] {
        var texts: [(String, String)] = []
        if let ip = request.environment.arg("IP") {
            texts += ip.split(separator: ",").map { (String($0), "CNI_ARGS IP") }
        }
        texts += try request.config.argsIPs().map { ($0, "args.cni.ips") }
        texts += try request.config.runtimeIPs().map { ($0, "runtimeConfig.ips") }
        var out: [IPAddress] = []
        for (text, source) in texts {
            let bare = text.split(separator: "/", maxSplits: 1).first.map(String.init) ?? text
            guard let address = IPAddress(bare) else {
                throw .invalidConfig("invalid requested IP address \"\(text)\" in \(source)")
            }
            if !out.contains(address) { out.append(address) }
        }
        return out
    }
}
