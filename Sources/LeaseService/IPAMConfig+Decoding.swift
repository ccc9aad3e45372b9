#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import ConfigFields
import Cluster
import IPAM
import JSONCore

extension IPAMConfig {
    /// The raw JSON shape, decoded leniently (every field optional) so that
    /// validation below can name the exact field that is wrong.
    struct Raw {
        struct RawRange {
            var subnet: String?
            var rangeStart: String?
            var rangeEnd: String?
            var gateway: String?
        }
        struct RawRoute {
            var dst: String?
            var gw: String?
        }
        var type: String?
        var ranges: [[RawRange]]?
        var subnet: String?
        var rangeStart: String?
        var rangeEnd: String?
        var gateway: String?
        var routes: [RawRoute]?
        var dataDir: String?
        var resolvConf: String?
        // Holdfast extensions.
        var lockTimeoutMs: Int?
        var quarantineSeconds: Int?
        var maxReleaseFraction: Double?

        init(json: JSONValue) throws(ConfigFieldError) {
            let f = try IPAMFields(json, path: "ipam")
            type = try f.string("type")
            if let sets = try f.array("ranges") {
                var parsed: [[RawRange]] = []
                for (set, setPath) in sets {
                    guard let items = set.arrayValue else { throw IPAMFields.mismatch(setPath, "an array", set) }
                    var ranges: [RawRange] = []
                    for (j, item) in items.enumerated() {
                        let r = try IPAMFields(item, path: "\(setPath)[\(j)]")
                        ranges.append(RawRange(subnet: try r.string("subnet"), rangeStart: try r.string("rangeStart"),
                                               rangeEnd: try r.string("rangeEnd"), gateway: try r.string("gateway")))
                    }
                    parsed.append(ranges)
                }
                ranges = parsed
            }
            subnet = try f.string("subnet")
            rangeStart = try f.string("rangeStart")
            rangeEnd = try f.string("rangeEnd")
            gateway = try f.string("gateway")
            if let items = try f.array("routes") {
                var parsed: [RawRoute] = []
                for (item, itemPath) in items {
                    let r = try IPAMFields(item, path: itemPath)
                    parsed.append(RawRoute(dst: try r.string("dst"), gw: try r.string("gw")))
                }
                routes = parsed
            }
            dataDir = try f.string("dataDir")
            resolvConf = try f.string("resolvConf")
            lockTimeoutMs = try f.int("lockTimeoutMs")
            quarantineSeconds = try f.int("quarantineSeconds")
            maxReleaseFraction = try f.double("maxReleaseFraction")
        }
    }

    /// Decodes and validates the `ipam` object of a network config.
    ///
    /// - Throws: `ConfigFieldError` naming the field for malformed CIDRs, ranges
    ///   outside their subnet, mixed families in one range set, overlapping
    ///   range sets, a relative `dataDir`, or no ranges at all.
    public init(ipamJSON: Data) throws(ConfigFieldError) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(ipamJSON)
        } catch {
            throw ConfigFieldError(field: "ipam", problem: "cannot decode: \(error)")
        }
        try self.init(ipam: json)
    }

    /// Decodes and validates an already parsed `ipam` object (the plugins have
    /// it from the network config; no re-encoding, no second parse).
    public init(ipam json: JSONValue) throws(ConfigFieldError) {
        // nil without a `cluster` key: a node-local run costs one lookup.
        let cluster = try ClusterConfig.parse(ipam: json)
        try self.init(raw: Raw(json: json), clusterMode: cluster != nil)
        self.cluster = cluster
        operations = try OperationsConfig(ipam: json)
        kernelEvidence = try KernelEvidenceConfig(ipam: json)
    }

    init(raw: Raw, clusterMode: Bool = false) throws(ConfigFieldError) {
        var rawSets = raw.ranges ?? []
        // host-local puts the legacy single range first.
        if let subnet = raw.subnet {
            rawSets.insert([Raw.RawRange(subnet: subnet, rangeStart: raw.rangeStart, rangeEnd: raw.rangeEnd, gateway: raw.gateway)], at: 0)
        }
        guard !rawSets.isEmpty || clusterMode else {
            throw ConfigFieldError(field: "ipam.ranges", problem: "no IP ranges specified (give \"ranges\" or \"subnet\")")
        }
        var sets: [RangeSet] = []
        for (i, rawSet) in rawSets.enumerated() {
            let base = raw.subnet != nil && i == 0 ? "ipam" : "ipam.ranges[\(raw.subnet != nil ? i - 1 : i)]"
            guard !rawSet.isEmpty else { throw ConfigFieldError(field: base, problem: "empty range set") }
            var ranges: [IPRange] = []
            for (j, r) in rawSet.enumerated() {
                let f = raw.subnet != nil && i == 0 ? base : "\(base)[\(j)]"
                ranges.append(try Self.parseRange(r, field: f))
            }
            let set: RangeSet
            do { set = try RangeSet(ranges) } catch { throw ConfigFieldError(field: base, problem: "\(error)") }
            for (k, other) in sets.enumerated() where other.overlaps(set) {
                throw ConfigFieldError(field: base, problem: "overlaps range set \(k)")
            }
            sets.append(set)
        }
        var routes: [IPAMRoute] = []
        for (i, r) in (raw.routes ?? []).enumerated() {
            guard let dstText = r.dst, let dst = IPNetwork(dstText) else {
                throw ConfigFieldError(field: "ipam.routes[\(i)].dst", problem: "invalid CIDR \(Self.quote(r.dst))")
            }
            var gw: IPAddress?
            if let g = r.gw {
                guard let a = IPAddress(g), a.isIPv4 == dst.address.isIPv4 else {
                    throw ConfigFieldError(field: "ipam.routes[\(i)].gw", problem: "invalid gateway \(Self.quote(g)) for \(dst)")
                }
                gw = a
            }
            routes.append(IPAMRoute(destination: dst, gateway: gw))
        }
        let dataDir = raw.dataDir ?? Self.defaultDataDir
        guard dataDir.hasPrefix("/"), !dataDir.contains("\0") else {
            throw ConfigFieldError(field: "ipam.dataDir", problem: "must be an absolute path, got \(Self.quote(dataDir))")
        }
        if let ms = raw.lockTimeoutMs, !(1...600_000).contains(ms) {
            throw ConfigFieldError(field: "ipam.lockTimeoutMs", problem: "must be 1...600000, got \(ms)")
        }
        if let s = raw.quarantineSeconds, !(0...86_400).contains(s) {
            throw ConfigFieldError(field: "ipam.quarantineSeconds", problem: "must be 0...86400, got \(s)")
        }
        if let f = raw.maxReleaseFraction, !(f > 0 && f <= 1) {
            throw ConfigFieldError(field: "ipam.maxReleaseFraction", problem: "must be in (0, 1], got \(f)")
        }
        self.init(rangeSets: sets, routes: routes, dataDir: dataDir, resolvConf: raw.resolvConf,
                  lockTimeout: raw.lockTimeoutMs.map { .milliseconds($0) } ?? Self.defaultLockTimeout,
                  quarantine: raw.quarantineSeconds.map { .seconds($0) } ?? Self.defaultQuarantine,
                  maxReleaseFraction: raw.maxReleaseFraction ?? 0.5)
    }

    private static func parseRange(_ r: Raw.RawRange, field: String) throws(ConfigFieldError) -> IPRange {
        guard let s = r.subnet else { throw ConfigFieldError(field: "\(field).subnet", problem: "missing") }
        guard let subnet = IPNetwork(s) else {
            throw ConfigFieldError(field: "\(field).subnet", problem: "invalid CIDR \(quote(s))")
        }
        // Current host-local rejects host bits rather than guessing what was meant.
        guard subnet.isCanonical else {
            throw ConfigFieldError(field: "\(field).subnet", problem: "network \(s) has host bits set; "
                                  + "for a /\(subnet.prefixLength) the network address is \(subnet.lower)")
        }
        func addr(_ text: String?, _ name: String) throws(ConfigFieldError) -> IPAddress? {
            guard let text else { return nil }
            guard let a = IPAddress(text) else {
                throw ConfigFieldError(field: "\(field).\(name)", problem: "invalid IP address \(quote(text))")
            }
            return a
        }
        let start = try addr(r.rangeStart, "rangeStart")
        let end = try addr(r.rangeEnd, "rangeEnd")
        let gw = try addr(r.gateway, "gateway")
        do {
            return try IPRange(subnet: subnet, rangeStart: start, rangeEnd: end, gateway: gw)
        } catch {
            throw ConfigFieldError(field: field, problem: "\(error)")
        }
    }

    static func quote(_ s: String?) -> String { s.map { "\"\($0)\"" } ?? "(missing)" }
}
