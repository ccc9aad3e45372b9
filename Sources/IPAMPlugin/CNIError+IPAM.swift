import Addressing
import CNI
import KernelInventory
import LeaseService
import LeaseStore

extension CNIError {
    /// Maps the IPAM layers' typed errors onto CNI codes: transient conditions
    /// (lock deadline, frozen network, exhausted pool) are 11 so runtimes retry;
    /// config problems are 7; store damage is our 101 so it is never mistaken for
    /// "try again".
    public static func from(ipam error: any Error) -> CNIError {
        switch error {
        case let e as CNIError:
            return e
        case let e as OperationsError:
            return .tryAgainLater(e.description, details: e.description)
        case let e as NamespaceScanError:
            return CNIError(code: HoldfastErrorCode.kernelEvidence,
                            msg: "cannot prove no live container holds the address: kernel scan incomplete",
                            details: "\(e); nothing was allocated")
        case let e as ConfigFieldError:
            return .invalidConfig("invalid ipam configuration", details: e.description)
        case let e as ClusterAllocationError:
            switch e {
            case .etcdUnavailable, .notOwned:
                return .tryAgainLater(e.description, details: e.description)
            case .conflict:
                return CNIError(code: HoldfastErrorCode.clusterBlockConflict, msg: "cluster block conflict", details: e.description)
            }
        case let e as IPAMServiceError:
            switch e {
            case .frozen, .exhausted:
                return .tryAgainLater(e.description, details: e.description)
            case .requestedUnavailable, .requestedUnplaced:
                return CNIError(code: HoldfastErrorCode.requestedUnavailable, msg: e.description, details: e.description)
            case .massReleaseRefused(let m):
                return CNIError(code: HoldfastErrorCode.massReleaseRefused, msg: "mass release refused", details: m)
            case .checkFailed(let m):
                return CNIError(code: HoldfastErrorCode.checkFailed, msg: "check failed", details: m)
            case .notReady(let m, let d):
                return .notAvailable(m, details: d)
            }
        case let e as StoreError:
            switch e {
            case .lockTimeout(let waited):
                return .tryAgainLater("lease store busy: lock not acquired within \(waited)",
                                      details: "another plugin process holds the network's lock; retry later")
            case .invalidName(let why):
                return .invalidConfig("invalid network name", details: why)
            case .corrupt(let path, let detail):
                return CNIError(code: HoldfastErrorCode.storeCorrupt, msg: "lease store is corrupt: \(path)",
                                details: "\(detail). Holdfast will not start empty over it: restore a backup with `ipamctl restore`, which reconciles with the kernel before any allocation")
            case .io(let operation, let code):
                return CNIError(code: HoldfastErrorCode.internal, msg: "lease store error: \(StorageCause(errno: code))",
                                details: "\(operation): errno \(code)")
            default:
                return CNIError(code: HoldfastErrorCode.internal, msg: "lease store error", details: "\(e)")
            }
        default:
            return CNIError(code: HoldfastErrorCode.internal, msg: "internal error", details: "\(error)")
        }
    }
}
