#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LeaseService

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
    struct Raw: Decodable {
        var bridge: String?
        var isGateway: Bool?
        var isDefaultGateway: Bool?
        var forceAddress: Bool?
        var ipMasq: Bool?
        var mtu: Int?
        var hairpinMode: Bool?
        var promiscMode: Bool?
        var vlan: Int?
        var macspoofchk: Bool?
        var enabledad: Bool?
        var timeoutMs: Int?
    }

    /// Decodes and validates the plugin's fields from the whole network config.
    /// - Throws: `BridgeConfigError` for an invalid bridge name, an MTU outside
    ///   68...65535, or a VLAN outside 0...4094.
    public init(json: Data) throws(BridgeConfigError) {
        let raw = try LooseDecoding.decode(Raw.self, from: json) {
            BridgeConfigError(field: "config", problem: "cannot decode bridge fields: \($0)")
        }
        let name = raw.bridge ?? Self.defaultBridge
        if let problem = InterfaceName.problem(with: name) {
            throw BridgeConfigError(field: "bridge", problem: "invalid bridge name \"\(name)\": \(problem)")
        }
        if let mtu = raw.mtu, !(68...65535).contains(mtu) {
            throw BridgeConfigError(field: "mtu", problem: "must be 68...65535, got \(mtu)")
        }
        if let vlan = raw.vlan, !(0...4094).contains(vlan) {
            throw BridgeConfigError(field: "vlan", problem: "must be 0...4094, got \(vlan)")
        }
        if let ms = raw.timeoutMs, !(1...600_000).contains(ms) {
            throw BridgeConfigError(field: "timeoutMs", problem: "must be 1...600000, got \(ms)")
        }
        self.init(bridge: name, isGateway: raw.isGateway ?? false, isDefaultGateway: raw.isDefaultGateway ?? false,
                  forceAddress: raw.forceAddress ?? false, ipMasq: raw.ipMasq ?? false, mtu: raw.mtu,
                  hairpinMode: raw.hairpinMode ?? false, promiscMode: raw.promiscMode ?? false,
                  vlan: raw.vlan.flatMap { $0 == 0 ? nil : $0 }, macspoofchk: raw.macspoofchk ?? false,
                  enableDAD: raw.enabledad ?? false,
                  timeout: raw.timeoutMs.map { .milliseconds($0) } ?? Self.defaultTimeout)
    }
}
