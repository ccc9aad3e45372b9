import Addressing

/// An ADD result (spec Section 5), independent of the version it is printed in.
///
/// Decoding accepts every supported shape (0.3.x/0.4.0 with `ips[].version`,
/// 1.x without); `encoded(for:)` prints exactly the shape of the requested
/// version. An IPAM plugin's result is the same type with no interfaces and no
/// `ips[].interface` (see `asIPAMResult()`).
public struct CNIResult: Sendable, Hashable {
    public var interfaces: [Interface]
    public var ips: [IPConfig]
    public var routes: [Route]
    public var dns: DNS?

    public init(interfaces: [Interface] = [], ips: [IPConfig] = [], routes: [Route] = [], dns: DNS? = nil) {
        self.interfaces = interfaces
        self.ips = ips
        self.routes = routes
        self.dns = dns
    }

    /// The abbreviated result a delegated IPAM plugin returns: no `interfaces`,
    /// no `ips[].interface` (spec Section 5, "Delegated plugins (IPAM)").
    public func asIPAMResult() -> CNIResult {
        var r = self
        r.interfaces = []
        for i in r.ips.indices { r.ips[i].interface = nil }
        return r
    }

    /// An interface created by the attachment (host-side ones included).
    public struct Interface: Sendable, Hashable {
        public var name: String
        /// Kept as text: a chained plugin's result may carry non-Ethernet
        /// hardware addresses that `MACAddress` would reject.
        public var mac: String?
        /// 1.1.0 only.
        public var mtu: Int?
        /// The netns path for interfaces inside the container; nil on the host.
        public var sandbox: String?
        /// 1.1.0 only.
        public var socketPath: String?
        /// 1.1.0 only.
        public var pciID: String?

        public init(name: String, mac: String? = nil, mtu: Int? = nil, sandbox: String? = nil,
                    socketPath: String? = nil, pciID: String? = nil) {
            self.name = name
            self.mac = mac
            self.mtu = mtu
            self.sandbox = sandbox
            self.socketPath = socketPath
            self.pciID = pciID
        }

        public init(name: String, mac: MACAddress?, mtu: Int? = nil, sandbox: String? = nil) {
            self.init(name: name, mac: mac?.description, mtu: mtu, sandbox: sandbox)
        }

        /// The MAC as a typed value when it is a 48-bit Ethernet address.
        public var macAddress: MACAddress? { mac.flatMap { MACAddress($0) } }
    }

    /// An address assigned by the attachment, in CIDR form with host bits
    /// (`10.1.0.5/16`).
    public struct IPConfig: Sendable, Hashable {
        public var address: IPNetwork
        public var gateway: IPAddress?
        /// Index into `interfaces`; nil in IPAM results.
        public var interface: Int?

        public init(address: IPNetwork, gateway: IPAddress? = nil, interface: Int? = nil) {
            self.address = address
            self.gateway = gateway
            self.interface = interface
        }
    }

    /// A route created by the attachment. All fields beyond `dst`/`gw` are 1.1.0 only.
    public struct Route: Sendable, Hashable {
        public var dst: IPNetwork
        public var gw: IPAddress?
        public var mtu: Int?
        public var advmss: Int?
        public var priority: Int?
        public var table: Int?
        /// global (0), link (253), host (254).
        public var scope: Int?

        public init(dst: IPNetwork, gw: IPAddress? = nil, mtu: Int? = nil, advmss: Int? = nil,
                    priority: Int? = nil, table: Int? = nil, scope: Int? = nil) {
            self.dst = dst
            self.gw = gw
            self.mtu = mtu
            self.advmss = advmss
            self.priority = priority
            self.table = table
            self.scope = scope
        }
    }

    /// Resolver settings. Also the shape of the well-known `dns` config key.
    public struct DNS: Sendable, Hashable, Codable {
        public var nameservers: [String]
        public var domain: String?
        public var search: [String]
        public var options: [String]

        public init(nameservers: [String] = [], domain: String? = nil, search: [String] = [], options: [String] = []) {
            self.nameservers = nameservers
            self.domain = domain
            self.search = search
            self.options = options
        }

        public var isEmpty: Bool {
            nameservers.isEmpty && (domain ?? "").isEmpty && search.isEmpty && options.isEmpty
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            nameservers = try c.decodeIfPresent([String].self, forKey: .nameservers) ?? []
            domain = try c.decodeIfPresent(String.self, forKey: .domain)
            search = try c.decodeIfPresent([String].self, forKey: .search) ?? []
            options = try c.decodeIfPresent([String].self, forKey: .options) ?? []
        }

        public func encode(to encoder: any Encoder) throws {
            try jsonValue.encode(to: encoder)
        }

        /// Keys with empty values are omitted, as the reference does.
        public var jsonValue: JSONValue {
            var o: [String: JSONValue] = [:]
            if !nameservers.isEmpty { o["nameservers"] = .array(nameservers.map(JSONValue.string)) }
            if let domain, !domain.isEmpty { o["domain"] = .string(domain) }
            if !search.isEmpty { o["search"] = .array(search.map(JSONValue.string)) }
            if !options.isEmpty { o["options"] = .array(options.map(JSONValue.string)) }
            return .object(o)
        }

        private enum CodingKeys: String, CodingKey { case nameservers, domain, search, options }
    }
}
