#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import Cluster
import IPAM

/// The `ipam` section of a network config, in `host-local`'s format plus a few
/// Holdfast extensions, validated and turned into typed ranges.
///
/// A config that works with `"type": "host-local"` works when only the type
/// changes: `ranges`, the legacy top-level `subnet`/`rangeStart`/`rangeEnd`/
/// `gateway`, `routes`, `dataDir` and `resolvConf` mean the same here.
public struct IPAMConfig: Sendable {
    /// One entry per `ranges` element: a dual-stack network has two.
    public var rangeSets: [RangeSet]
    public var routes: [IPAMRoute]
    /// Where stores live: `<dataDir>/<network>/`.
    public var dataDir: String
    public var resolvConf: String?
    /// How long ADD waits for the store's lock before failing with CNI error 11.
    public var lockTimeout: Duration
    /// How long a released address rests before it is handed out again (unless
    /// nothing else is free), so stale ARP caches and conntrack entries of peers
    /// never reach a new container.
    public var quarantine: Duration
    /// Reconcile/GC refuse to release more than this fraction of live leases without force.
    public var maxReleaseFraction: Double
    /// Rate limit, waiter cap and structured log (see `OperationsConfig`).
    public var operations = OperationsConfig()
    /// Currency proof and namespace-scan bounds (see `KernelEvidenceConfig`).
    public var kernelEvidence = KernelEvidenceConfig()
    /// Cluster mode (`ipam.cluster`): addresses come from blocks this node
    /// claims in etcd instead of `rangeSets`, which is then empty. nil on a
    /// node-local network, where no etcd code runs.
    public var cluster: ClusterConfig?

    /// Default data directory, separate from host-local's `/var/lib/cni/networks`
    /// so the two never read each other's files.
    public static let defaultDataDir = "/var/lib/holdfast/networks"
    public static let defaultLockTimeout = Duration.seconds(5)
    public static let defaultQuarantine = Duration.seconds(120)

    public init(rangeSets: [RangeSet], routes: [IPAMRoute] = [], dataDir: String = IPAMConfig.defaultDataDir,
                resolvConf: String? = nil, lockTimeout: Duration = IPAMConfig.defaultLockTimeout,
                quarantine: Duration = IPAMConfig.defaultQuarantine, maxReleaseFraction: Double = 0.5) {
        self.rangeSets = rangeSets
        self.routes = routes
        self.dataDir = dataDir
        self.resolvConf = resolvConf
        self.lockTimeout = lockTimeout
        self.quarantine = quarantine
        self.maxReleaseFraction = maxReleaseFraction
    }
}

/// A route from the `ipam.routes` list.
public struct IPAMRoute: Sendable, Hashable {
    public var destination: IPNetwork
    public var gateway: IPAddress?
    public init(destination: IPNetwork, gateway: IPAddress?) {
        self.destination = destination
        self.gateway = gateway
    }
}
