#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Etcd

extension ClusterConfig {
    /// The JSON shapes, decoded leniently so validation can name the field.
    struct Raw: Decodable {
        struct RawEtcd: Decodable {
            var endpoints: [String]?
            var prefix: String?
            var caFile: String?
            var certFile: String?
            var keyFile: String?
            var timeoutMs: Int?
        }
        struct RawPool: Decodable {
            var cidr: String?
            var blockPrefix: Int?
        }
        var etcd: RawEtcd?
        var pools: [RawPool]?
        var nodeName: String?
        var nodeAddress: String?
    }

    /// What of the `ipam` object matters here: `cluster`, and whether node-local ranges are given too.
    struct RawIPAM: Decodable {
        var cluster: Raw?
        var ranges: [[JSONIgnored]]?
        var subnet: String?
    }

    struct JSONIgnored: Decodable {
        init(from decoder: Decoder) throws {}
    }

    /// Reads `ipam.cluster` from the `ipam` object of a network config.
    ///
    /// - Returns: nil when there is no `cluster` key (a node-local network).
    /// - Throws: `ConfigFieldError` when `cluster` is given together with
    ///   `ranges` or `subnet`, or any of its fields is invalid.
    public static func parse(ipamJSON: Data, hostName: () -> String = ClusterConfig.hostName) throws(ConfigFieldError) -> ClusterConfig? {
        let raw: RawIPAM
        do { raw = try JSONDecoder().decode(RawIPAM.self, from: ipamJSON) } catch {
            throw ConfigFieldError(field: "ipam.cluster", problem: "cannot decode: \(error)")
        }
        guard let cluster = raw.cluster else { return nil }
        if raw.ranges != nil || raw.subnet != nil {
            throw ConfigFieldError(field: "ipam.cluster", problem: "cluster replaces ranges: give either \"cluster\" or \"ranges\"/\"subnet\", not both")
        }
        return try ClusterConfig(raw: cluster, hostName: hostName)
    }

    init(raw: Raw, hostName: () -> String) throws(ConfigFieldError) {
        guard let e = raw.etcd else { throw ConfigFieldError(field: "ipam.cluster.etcd", problem: "missing") }
        let endpoints = e.endpoints ?? []
        guard !endpoints.isEmpty else { throw ConfigFieldError(field: "ipam.cluster.etcd.endpoints", problem: "give at least one endpoint") }
        for (i, url) in endpoints.enumerated() {
            guard Self.validEndpoint(url) else {
                throw ConfigFieldError(field: "ipam.cluster.etcd.endpoints[\(i)]", problem: "expected http://HOST:PORT or https://HOST:PORT, got \"\(url)\"")
            }
        }
        for (name, value) in [("caFile", e.caFile), ("certFile", e.certFile), ("keyFile", e.keyFile)] {
            if let value, !value.hasPrefix("/") {
                throw ConfigFieldError(field: "ipam.cluster.etcd.\(name)", problem: "must be an absolute path, got \"\(value)\"")
            }
        }
        guard (e.certFile == nil) == (e.keyFile == nil) else {
            throw ConfigFieldError(field: "ipam.cluster.etcd", problem: "certFile and keyFile go together")
        }
        if e.caFile != nil || e.certFile != nil, endpoints.contains(where: { $0.hasPrefix("http://") }) {
            throw ConfigFieldError(field: "ipam.cluster.etcd.endpoints", problem: "TLS files are given but an endpoint is plain http://")
        }
        if let ms = e.timeoutMs, !(1...60_000).contains(ms) {
            throw ConfigFieldError(field: "ipam.cluster.etcd.timeoutMs", problem: "must be 1...60000, got \(ms)")
        }
        var prefix = e.prefix ?? Self.defaultPrefix
        while prefix.count > 1, prefix.hasSuffix("/") { prefix.removeLast() }
        guard prefix.hasPrefix("/"), prefix.count > 1, !prefix.contains("\0") else {
            throw ConfigFieldError(field: "ipam.cluster.etcd.prefix", problem: "must be an absolute key prefix like \"/holdfast\", got \"\(e.prefix ?? "")\"")
        }
        let rawPools = raw.pools ?? []
        guard !rawPools.isEmpty else { throw ConfigFieldError(field: "ipam.cluster.pools", problem: "give at least one pool") }
        var pools: [ClusterPool] = []
        for (i, p) in rawPools.enumerated() {
            let field = "ipam.cluster.pools[\(i)]"
            guard let text = p.cidr else { throw ConfigFieldError(field: "\(field).cidr", problem: "missing") }
            guard let cidr = IPNetwork(text) else { throw ConfigFieldError(field: "\(field).cidr", problem: "invalid CIDR \"\(text)\"") }
            guard let bp = p.blockPrefix else { throw ConfigFieldError(field: "\(field).blockPrefix", problem: "missing") }
            let pool = try ClusterPool(cidr: cidr, blockPrefix: bp, field: field)
            if pools.contains(where: { $0.isIPv4 == pool.isIPv4 }) {
                throw ConfigFieldError(field: field, problem: "at most one pool per address family")
            }
            pools.append(pool)
        }
        let node = raw.nodeName ?? hostName()
        guard Self.validNodeName(node) else {
            throw ConfigFieldError(field: "ipam.cluster.nodeName",
                                     problem: "must be 1-253 characters of letters, digits, '.', '-' or '_', got \"\(node)\"")
        }
        var address: IPAddress?
        if let text = raw.nodeAddress {
            guard let a = IPAddress(text) else {
                throw ConfigFieldError(field: "ipam.cluster.nodeAddress", problem: "invalid IP address \"\(text)\"")
            }
            address = a
        }
        let etcd = EtcdConfig(endpoints: endpoints, caFile: e.caFile, certFile: e.certFile, keyFile: e.keyFile,
                              timeout: e.timeoutMs.map { .milliseconds($0) } ?? EtcdConfig.defaultTimeout)
        self.init(etcd: etcd, prefix: prefix, pools: pools, nodeName: node, nodeAddress: address)
    }

    static func validEndpoint(_ url: String) -> Bool {
        guard let scheme = ["http://", "https://"].first(where: { url.hasPrefix($0) }) else { return false }
        var rest = url.dropFirst(scheme.count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        return !rest.isEmpty && !rest.contains("/") && !rest.contains(where: \.isWhitespace)
    }

    public static func validNodeName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 253 && s != "." && s != ".." && s.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2e || $0 == 0x2d || $0 == 0x5f
        }
    }

    /// The kernel's host name (uname nodename), the default node name.
    public static func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
