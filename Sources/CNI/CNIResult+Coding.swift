#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing

// MARK: Decoding (every supported version's shape)

extension CNIResult: Decodable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    /// Parses a result in 0.3.x/0.4.0 or 1.x shape. `ips[].version`, when
    /// present, must be "4" or "6" and match the address; unknown keys are
    /// ignored (a newer chained plugin may add some). Errors are code 6 and
    /// name the field path (`path` is its prefix, e.g. `prevResult`).
    public init(json: JSONValue, path: String = "result") throws(CNIError) {
        let o = try Self.object(json, path)
        self.init()
        if let v = o["interfaces"], !v.isNull {
            for (i, item) in try Self.array(v, "\(path).interfaces").enumerated() {
                interfaces.append(try Self.interface(item, "\(path).interfaces[\(i)]"))
            }
        }
        if let v = o["ips"], !v.isNull {
            for (i, item) in try Self.array(v, "\(path).ips").enumerated() {
                ips.append(try Self.ipConfig(item, "\(path).ips[\(i)]"))
            }
        }
        if let v = o["routes"], !v.isNull {
            for (i, item) in try Self.array(v, "\(path).routes").enumerated() {
                routes.append(try Self.route(item, "\(path).routes[\(i)]"))
            }
        }
        if let v = o["dns"], !v.isNull {
            let d = try Self.object(v, "\(path).dns")
            var dns = DNS()
            dns.nameservers = try Self.strings(d["nameservers"], "\(path).dns.nameservers")
            dns.domain = try Self.string(d["domain"], "\(path).dns.domain")
            dns.search = try Self.strings(d["search"], "\(path).dns.search")
            dns.options = try Self.strings(d["options"], "\(path).dns.options")
            self.dns = dns
        }
    }

    /// Parses result bytes (e.g. a delegated plugin's stdout).
    public init(decoding bytes: Data) throws(CNIError) {
        try self.init(json: JSONValue.decode(bytes, what: "result"))
    }

    private static func interface(_ v: JSONValue, _ p: String) throws(CNIError) -> Interface {
        let o = try object(v, p)
        guard let name = try string(o["name"], "\(p).name"), !name.isEmpty else {
            throw .decodingFailure("\(p).name: required field missing")
        }
        return Interface(
            name: name, mac: try string(o["mac"], "\(p).mac"), mtu: try uint(o["mtu"], "\(p).mtu"),
            sandbox: try string(o["sandbox"], "\(p).sandbox"), socketPath: try string(o["socketPath"], "\(p).socketPath"),
            pciID: try string(o["pciID"], "\(p).pciID"))
    }

    private static func ipConfig(_ v: JSONValue, _ p: String) throws(CNIError) -> IPConfig {
        let o = try object(v, p)
        guard let text = try string(o["address"], "\(p).address") else {
            throw .decodingFailure("\(p).address: required field missing")
        }
        guard let address = IPNetwork(text) else {
            throw .decodingFailure("\(p).address: invalid CIDR \"\(text)\"")
        }
        if let version = try string(o["version"], "\(p).version") {
            guard version == "4" || version == "6" else {
                throw .decodingFailure("\(p).version: must be \"4\" or \"6\", got \"\(version)\"")
            }
            guard (version == "4") == address.address.isIPv4 else {
                throw .decodingFailure("\(p).version: \"\(version)\" does not match address \(text)")
            }
        }
        return IPConfig(address: address, gateway: try ip(o["gateway"], "\(p).gateway"),
                        interface: try uint(o["interface"], "\(p).interface"))
    }

    private static func route(_ v: JSONValue, _ p: String) throws(CNIError) -> Route {
        let o = try object(v, p)
        guard let text = try string(o["dst"], "\(p).dst") else {
            throw .decodingFailure("\(p).dst: required field missing")
        }
        guard let dst = IPNetwork(text) else { throw .decodingFailure("\(p).dst: invalid CIDR \"\(text)\"") }
        return Route(
            dst: dst, gw: try ip(o["gw"], "\(p).gw"), mtu: try uint(o["mtu"], "\(p).mtu"),
            advmss: try uint(o["advmss"], "\(p).advmss"), priority: try uint(o["priority"], "\(p).priority"),
            table: try uint(o["table"], "\(p).table"), scope: try uint(o["scope"], "\(p).scope"))
    }

    static func object(_ v: JSONValue, _ p: String) throws(CNIError) -> [String: JSONValue] {
        guard let o = v.objectValue else { throw .decodingFailure("\(p): expected an object, got \(v.typeName)") }
        return o
    }

    static func array(_ v: JSONValue, _ p: String) throws(CNIError) -> [JSONValue] {
        guard let a = v.arrayValue else { throw .decodingFailure("\(p): expected an array, got \(v.typeName)") }
        return a
    }

    /// nil for absent/null; a string otherwise (or code 6).
    static func string(_ v: JSONValue?, _ p: String) throws(CNIError) -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.stringValue else { throw .decodingFailure("\(p): expected a string, got \(v.typeName)") }
        return s
    }

    static func strings(_ v: JSONValue?, _ p: String) throws(CNIError) -> [String] {
        guard let v, !v.isNull else { return [] }
        var out: [String] = []
        for (i, item) in try array(v, p).enumerated() {
            out.append(try string(item, "\(p)[\(i)]") ?? "")
        }
        return out
    }

    static func uint(_ v: JSONValue?, _ p: String) throws(CNIError) -> Int? {
        guard let v, !v.isNull else { return nil }
        guard let n = v.intValue, n >= 0 else {
            throw .decodingFailure("\(p): expected a non-negative integer, got \(v.typeName)")
        }
        return n
    }

    static func ip(_ v: JSONValue?, _ p: String) throws(CNIError) -> IPAddress? {
        guard let s = try string(v, p), !s.isEmpty else { return nil }
        guard let a = IPAddress(s) else { throw .decodingFailure("\(p): invalid IP address \"\(s)\"") }
        return a
    }
}

// MARK: Encoding (exactly one version's shape)

extension CNIResult {
    /// The result as JSON in the shape of `version`:
    /// - 0.3.0/0.3.1/0.4.0: each `ips[]` carries `"version": "4"|"6"`.
    /// - 1.0.0/1.1.0: no `version`.
    /// - `dns` is always present (`{}` when empty) in every version, as the
    ///   reference plugins Debian ships print it, so results compare equal.
    /// - Route `mtu`/`advmss`/`priority`/`table`/`scope` and interface
    ///   `mtu`/`socketPath`/`pciID` only in 1.1.0, where the spec defines them.
    /// - Empty `interfaces`, `ips`, `routes` are omitted (IPAM results have no
    ///   `interfaces`); nil fields are omitted.
    public func jsonValue(for version: CNIVersion) -> JSONValue {
        var o: [String: JSONValue] = ["cniVersion": .string(version.rawValue)]
        let extended = version.hasExtendedFields
        if !interfaces.isEmpty {
            o["interfaces"] = .array(interfaces.map { i in
                var j: [String: JSONValue] = ["name": .string(i.name)]
                if let mac = i.mac, !mac.isEmpty { j["mac"] = .string(mac) }
                if let sandbox = i.sandbox, !sandbox.isEmpty { j["sandbox"] = .string(sandbox) }
                if extended {
                    if let mtu = i.mtu, mtu != 0 { j["mtu"] = .number(Double(mtu)) }
                    if let s = i.socketPath, !s.isEmpty { j["socketPath"] = .string(s) }
                    if let s = i.pciID, !s.isEmpty { j["pciID"] = .string(s) }
                }
                return .object(j)
            })
        }
        if !ips.isEmpty {
            o["ips"] = .array(ips.map { ip in
                var j: [String: JSONValue] = ["address": .string(ip.address.description)]
                if version.hasIPVersionField { j["version"] = .string(ip.address.address.isIPv4 ? "4" : "6") }
                if let gw = ip.gateway { j["gateway"] = .string(gw.description) }
                if let idx = ip.interface { j["interface"] = .number(Double(idx)) }
                return .object(j)
            })
        }
        if !routes.isEmpty {
            o["routes"] = .array(routes.map { r in
                var j: [String: JSONValue] = ["dst": .string(r.dst.description)]
                if let gw = r.gw { j["gw"] = .string(gw.description) }
                if extended {
                    if let v = r.mtu, v != 0 { j["mtu"] = .number(Double(v)) }
                    if let v = r.advmss, v != 0 { j["advmss"] = .number(Double(v)) }
                    if let v = r.priority, v != 0 { j["priority"] = .number(Double(v)) }
                    if let v = r.table { j["table"] = .number(Double(v)) }
                    if let v = r.scope { j["scope"] = .number(Double(v)) }
                }
                return .object(j)
            })
        }
        o["dns"] = (self.dns ?? DNS()).jsonValue
        return .object(o)
    }

    /// The result as printed on stdout for `version` (compact, sorted keys,
    /// no trailing newline).
    public func encoded(for version: CNIVersion) -> Data {
        jsonValue(for: version).encoded()
    }
}
