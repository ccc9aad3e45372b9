#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CNI

/// The `holdfast` plugin's config: the reference `bridge` plugin's fields, so
/// users switch by changing `type`.
public struct BridgeConfig: Sendable, Equatable {
    /// Bridge device name. The reference defaults to `cni0`; we default to
    /// `holdfast0` so both plugins can run side by side on one host.
    public var bridge: String
    public var isGateway: Bool
    public var isDefaultGateway: Bool
    public var forceAddress: Bool
    public var ipMasq: Bool
    public var mtu: Int?
    public var hairpinMode: Bool
    public var promiscMode: Bool
    public var vlan: Int?
    /// Drop frames from the container's port whose source MAC is not the container's.
    public var macspoofchk: Bool
    /// IPv6 duplicate address detection in the container. Off by default like the
    /// reference (`enabledad`): the IPAM already guarantees uniqueness, and DAD
    /// delays the address by a second or more.
    public var enableDAD: Bool
    /// The run's deadline (`timeoutMs`), counted from the plugin's start: a
    /// delegated IPAM plugin still running when it passes is killed and the
    /// verb answers code 11, so a hung delegate cannot hang the runtime.
    public var timeout: Duration

    public static let defaultBridge = "holdfast0"
    public static let defaultTimeout = Duration.seconds(60)

    public init(bridge: String = BridgeConfig.defaultBridge, isGateway: Bool = false, isDefaultGateway: Bool = false,
                forceAddress: Bool = false, ipMasq: Bool = false, mtu: Int? = nil, hairpinMode: Bool = false,
                promiscMode: Bool = false, vlan: Int? = nil, macspoofchk: Bool = false, enableDAD: Bool = false,
                timeout: Duration = BridgeConfig.defaultTimeout) {
        self.bridge = bridge
        self.isGateway = isGateway || isDefaultGateway
        self.isDefaultGateway = isDefaultGateway
        self.forceAddress = forceAddress
        self.ipMasq = ipMasq
        self.mtu = mtu
        self.hairpinMode = hairpinMode
        self.promiscMode = promiscMode
        self.vlan = vlan
        self.macspoofchk = macspoofchk
        self.enableDAD = enableDAD
        self.timeout = timeout
    }
}

/// A config field with a value the plugin cannot use; CNI error 7 naming the field.
public struct BridgeConfigError: Error, CustomStringConvertible, Sendable {
    public var field: String
    public var problem: String
    public var description: String { "\(field): \(problem)" }
}

extension BridgeConfig {
    /// Decodes and validates the plugin's fields from the whole network config.
    /// - Throws: `BridgeConfigError` for an invalid bridge name, an MTU outside
    ///   68...65535, or a VLAN outside 0...4094.
    public init(json: Data) throws(BridgeConfigError) {
        let config: JSONValue
        do { config = try JSONValue.parse(json) } catch {
            throw BridgeConfigError(field: "config", problem: "cannot decode bridge fields: \(error)")
        }
        guard case .object(let fields) = config else {
            throw BridgeConfigError(field: "config", problem: "cannot decode bridge fields: expected an object, got \(config.typeName)")
        }
        try self.init(config: fields)
    }

    /// The same from the parsed config (`NetworkConfig.raw`): every ADD and DEL
    /// reads these fields, and reading them from the `JSONValue` costs a small
    /// fraction of a second `Decodable` pass over the config bytes. The rules
    /// are `decodeIfPresent`'s: a missing key or `null` is absent, another type
    /// is an error.
    public init(config fields: [String: JSONValue]) throws(BridgeConfigError) {
        func value(_ key: String) -> JSONValue? {
            guard let v = fields[key], !v.isNull else { return nil }
            return v
        }
        func mismatch(_ key: String, _ expected: String, _ v: JSONValue) -> BridgeConfigError {
            BridgeConfigError(field: key, problem: "cannot decode bridge fields: expected \(expected), got \(v.typeName)")
        }
        func bool(_ key: String) throws(BridgeConfigError) -> Bool {
            guard let v = value(key) else { return false }
            guard let b = v.boolValue else { throw mismatch(key, "a boolean", v) }
            return b
        }
        func int(_ key: String) throws(BridgeConfigError) -> Int? {
            guard let v = value(key) else { return nil }
            guard let n = v.intValue else { throw mismatch(key, "an integer", v) }
            return n
        }
        var name = Self.defaultBridge
        if let v = value("bridge") {
            guard let s = v.stringValue else { throw mismatch("bridge", "a string", v) }
            name = s
        }
        if let problem = InterfaceName.problem(with: name) {
            throw BridgeConfigError(field: "bridge", problem: "invalid bridge name \"\(name)\": \(problem)")
        }
        let mtu = try int("mtu")
        if let mtu, !(68...65535).contains(mtu) {
            throw BridgeConfigError(field: "mtu", problem: "must be 68...65535, got \(mtu)")
        }
        let vlan = try int("vlan")
        if let vlan, !(0...4094).contains(vlan) {
            throw BridgeConfigError(field: "vlan", problem: "must be 0...4094, got \(vlan)")
        }
        let timeoutMs = try int("timeoutMs")
        if let ms = timeoutMs, !(1...600_000).contains(ms) {
            throw BridgeConfigError(field: "timeoutMs", problem: "must be 1...600000, got \(ms)")
        }
        self.init(bridge: name, isGateway: try bool("isGateway"), isDefaultGateway: try bool("isDefaultGateway"),
                  forceAddress: try bool("forceAddress"), ipMasq: try bool("ipMasq"), mtu: mtu,
                  hairpinMode: try bool("hairpinMode"), promiscMode: try bool("promiscMode"),
                  vlan: vlan.flatMap { $0 == 0 ? nil : $0 }, macspoofchk: try bool("macspoofchk"),
                  enableDAD: try bool("enabledad"),
                  timeout: timeoutMs.map { .milliseconds($0) } ?? Self.defaultTimeout)
    }
}
