#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing

/// Finds the cluster `ipam` section in a network config or conflist, the file
/// the runtime uses, so that `ipamctl cluster` and `holdfast-watchdog` read the
/// same etcd settings, network name and node name as the plugin.
public enum ClusterNetworkFile {
    struct File: Decodable {
        struct Plugin: Decodable { var ipam: AnyJSON? }
        var name: String?
        var ipam: AnyJSON?
        var plugins: [Plugin]?
    }

    /// The network name and the JSON of the first `ipam` object that has `cluster`.
    public static func ipamSection(of data: Data, path: String) throws(ConfigFieldError) -> (network: String, ipam: Data) {
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw ConfigFieldError(field: path, problem: "not a network config or conflist: \(error)")
        }
        guard let name = file.name else { throw ConfigFieldError(field: path, problem: "no \"name\"") }
        let sections = ([file.ipam] + (file.plugins ?? []).map(\.ipam)).compactMap { $0 }
        guard let ipam = sections.first(where: { $0.hasKey("cluster") }) else {
            throw ConfigFieldError(field: path, problem: "no plugin has an ipam section with \"cluster\"")
        }
        do { return (name, try JSONEncoder().encode(ipam)) } catch {
            throw ConfigFieldError(field: path, problem: "\(error)")
        }
    }

    /// Reads `path` and parses its cluster settings.
    public static func load(path: String) throws(ConfigFieldError) -> (network: String, ipam: Data, cluster: ClusterConfig) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigFieldError(field: path, problem: "cannot read the file")
        }
        let (network, ipam) = try ipamSection(of: data, path: path)
        guard let cluster = try ClusterConfig.parse(ipamJSON: ipam) else {
            throw ConfigFieldError(field: path, problem: "no ipam.cluster")
        }
        return (network, ipam, cluster)
    }
}

/// Any JSON value, decoded and encoded back unchanged (integers stay integers).
enum AnyJSON: Codable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([AnyJSON]), object([String: AnyJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([AnyJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: AnyJSON].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    func hasKey(_ key: String) -> Bool {
        if case .object(let o) = self { o[key] != nil } else { false }
    }
}
