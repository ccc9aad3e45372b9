#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import CNI
import IPAM
import IPAMPlugin
import Netlink

/// `holdfast`: the CNI bridge plugin.
///
/// Contracts:
/// - **Idempotency.** The host veth name is derived from (containerID, ifname),
///   so a retried ADD finds and rebuilds a half-made attachment, and DEL finds
///   the veth without the container's netns. DEL of anything already gone is success.
/// - **Privilege.** Needs `CAP_NET_ADMIN` in the runtime's namespace and the
///   container's, and `CAP_SYS_ADMIN` for `setns`.
/// - **Concurrency.** Kernel objects are per attachment; the only shared state
///   (leases) is serialised by the store's flock. The bridge itself is created
///   with "exists is fine" semantics, so racing ADDs agree on it.
public struct BridgePlugin: CNIPlugin {
    public init() {}

    public func add(_ request: CNIRequest) throws -> CNIResult {
        do { return try AddOperation(request: request).run() } catch { throw CNIError.from(bridge: error) }
    }

    public func del(_ request: CNIRequest) throws {
        do { try DelOperation(request: request).run() } catch { throw CNIError.from(bridge: error) }
    }

    public func check(_ request: CNIRequest) throws {
        do { try CheckOperation(request: request).run() } catch { throw CNIError.from(bridge: error) }
    }

    public func status(_ request: CNIRequest) throws {
        do {
            _ = try BridgeConfig(config: request.config.raw)
            try IPAMBackend(request: request).status(request)
        } catch { throw CNIError.from(bridge: error) }
    }

    public func gc(_ request: CNIRequest) throws {
        do { try GCOperation(request: request).run() } catch { throw CNIError.from(bridge: error) }
    }
}
