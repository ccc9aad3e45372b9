/// Where etcd is and how to reach it: the `ipam.cluster.etcd` object.
///
/// Every request carries one deadline (`timeout`) that covers all endpoints it
/// tries, so a dead endpoint can never stretch an ADD past its budget.
public struct EtcdConfig: Sendable, Hashable {
    /// Base URLs, e.g. `https://192.0.2.10:2379`; tried in order, starting at
    /// the last one that answered.
    public var endpoints: [String]
    /// PEM CA bundle that signs the servers' certificates (https only).
    public var caFile: String?
    /// PEM client certificate and key, for etcd run with `--client-cert-auth`.
    public var certFile: String?
    public var keyFile: String?
    /// The deadline of one request, across every endpoint it tries.
    public var timeout: Duration

    public static let defaultTimeout = Duration.milliseconds(2000)

    public init(endpoints: [String], caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
                timeout: Duration = EtcdConfig.defaultTimeout) {
        self.endpoints = endpoints
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.timeout = timeout
    }
}
