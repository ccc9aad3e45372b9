#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Addressing
import ConfigFields
import Etcd
import JSONCore

extension ClusterConfig {
    /// Reads `ipam.cluster` from the `ipam` object of a network config.
    ///
    /// - Returns: nil when there is no `cluster` key (a node-local network).
    /// - Throws: `ConfigFieldError` when `cluster` is given together with
    ///   `ranges` or `subnet`, or any of its fields is invalid.
    public static func parse(ipamJSON: Data, hostName: () -> String = ClusterConfig.hostName) throws(ConfigFieldError) -> ClusterConfig? {
        let json: JSONValue
        do { json = try JSONValue.parse(ipamJSON) } catch {
            throw ConfigFieldError(field: "ipam.cluster", problem: "cannot decode: \(error)")
        }
        return try parse(ipam: json, hostName: hostName)
    }

    /// `parse(ipamJSON:)` on an `ipam` object already parsed (the plugins have
    /// it from the network config). Read with `IPAMFields`, not `JSONDecoder`:
    /// the generic decoder cost an ADD in cluster mode 0.7 M instructions and
    /// the page faults of its code, a quarter of the run (docs/benchmarks.md).
    public static func parse(ipam json: JSONValue, hostName: () -> String = ClusterConfig.hostName) throws(ConfigFieldError) -> ClusterConfig? {
        let ipam = try IPAMFields(json, path: "ipam")
        guard let cluster = try ipam.object("cluster") else { return nil }
        if ipam.present("ranges") != nil || ipam.present("subnet") != nil {
            throw ConfigFieldError(field: "ipam.cluster", problem: "cluster replaces ranges: give either \"cluster\" or \"ranges\"/\"subnet\", not both")
        }
        return try ClusterConfig(cluster: cluster, hostName: hostName)
    }

    init(cluster raw: IPAMFields, hostName: () -> String) throws(ConfigFieldError) {
        guard let e = try raw.object("etcd") else { throw ConfigFieldError(field: "ipam.cluster.etcd", problem: "missing") }
        let endpoints = try e.strings("endpoints") ?? []
        guard !endpoints.isEmpty else { throw ConfigFieldError(field: "ipam.cluster.etcd.endpoints", problem: "give at least one endpoint") }
        for (i, url) in endpoints.enumerated() {
            guard Self.validEndpoint(url) else {
                throw ConfigFieldError(field: "ipam.cluster.etcd.endpoints[\(i)]", problem: "expected http://HOST:PORT or https://HOST:PORT, got \"\(url)\"")
            }
        }
        let caFile = try e.string("caFile"), certFile = try e.string("certFile"), keyFile = try e.string("keyFile")
        for (name, value) in [("caFile", caFile), ("certFile", certFile), ("keyFile", keyFile)] {
            if let value, !value.hasPrefix("/") {
                throw ConfigFieldError(field: "ipam.cluster.etcd.\(name)", problem: "must be an absolute path, got \"\(value)\"")
            }
        }
        guard (certFile == nil) == (keyFile == nil) else {
            throw ConfigFieldError(field: "ipam.cluster.etcd", problem: "certFile and keyFile go together")
        }
        if caFile != nil || certFile != nil, endpoints.contains(where: { $0.hasPrefix("http://") }) {
            throw ConfigFieldError(field: "ipam.cluster.etcd.endpoints", problem: "TLS files are given but an endpoint is plain http://")
        }
        let timeoutMs = try e.int("timeoutMs")
        if let ms = timeoutMs, !(1...60_000).contains(ms) {
            throw ConfigFieldError(field: "ipam.cluster.etcd.timeoutMs", problem: "must be 1...60000, got \(ms)")
        }
        let givenPrefix = try e.string("prefix")
        var prefix = givenPrefix ?? Self.defaultPrefix
        while prefix.count > 1, prefix.hasSuffix("/") { prefix.removeLast() }
        guard prefix.hasPrefix("/"), prefix.count > 1, !prefix.contains("\0") else {
            throw ConfigFieldError(field: "ipam.cluster.etcd.prefix", problem: "must be an absolute key prefix like \"/holdfast\", got \"\(givenPrefix ?? "")\"")
        }
        let rawPools = try raw.array("pools") ?? []
        guard !rawPools.isEmpty else { throw ConfigFieldError(field: "ipam.cluster.pools", problem: "give at least one pool") }
        var pools: [ClusterPool] = []
        for (i, (item, itemPath)) in rawPools.enumerated() {
            let field = "ipam.cluster.pools[\(i)]"
            let p = try IPAMFields(item, path: itemPath)
            guard let text = try p.string("cidr") else { throw ConfigFieldError(field: "\(field).cidr", problem: "missing") }
            guard let cidr = IPNetwork(text) else { throw ConfigFieldError(field: "\(field).cidr", problem: "invalid CIDR \"\(text)\"") }
            guard let bp = try p.int("blockPrefix") else { throw ConfigFieldError(field: "\(field).blockPrefix", problem: "missing") }
            let pool = try ClusterPool(cidr: cidr, blockPrefix: bp, field: field)
            if pools.contains(where: { $0.isIPv4 == pool.isIPv4 }) {
                throw ConfigFieldError(field: field, problem: "at most one pool per address family")
            }
            pools.append(pool)
        }
        let node = try raw.string("nodeName") ?? hostName()
        guard Self.validNodeName(node) else {
            throw ConfigFieldError(field: "ipam.cluster.nodeName",
                                     problem: "must be 1-253 characters of letters, digits, '.', '-' or '_', got \"\(node)\"")
        }
        var address: IPAddress?
        if let text = try raw.string("nodeAddress") {
            guard let a = IPAddress(text) else {
                throw ConfigFieldError(field: "ipam.cluster.nodeAddress", problem: "invalid IP address \"\(text)\"")
            }
            address = a
        }
        let etcd = EtcdConfig(endpoints: endpoints, caFile: caFile, certFile: certFile, keyFile: keyFile,
                              timeout: timeoutMs.map { .milliseconds($0) } ?? EtcdConfig.defaultTimeout)
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
