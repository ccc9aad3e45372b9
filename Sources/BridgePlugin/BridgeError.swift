import CNI
import IPAMPlugin
import Glibc
import Netlink

/// Failures of the bridge plugin's own steps (the IPAM layers have theirs).
enum BridgeError: Error, CustomStringConvertible {
    case system(String, Int32)
    case notABridge(String)
    case interfaceExists(name: String, netns: String)
    case checkFailed(String)
    /// The gateway's subnet already has another address on the bridge and
    /// `forceAddress` is off: the config must change, so code 7.
    case addressConflict(String)
    /// A link has the attachment's host veth name but is not this attachment's.
    case foreignLink(name: String, alias: String?, kind: String?)

    var description: String {
        switch self {
        case .system(let op, let e): "\(op): \(String(cString: strerror(e)))"
        case .notABridge(let n): "\"\(n)\" exists but is not a bridge"
        case .interfaceExists(let n, let ns): "interface \"\(n)\" already exists in \(ns) and is not a leftover of this attachment"
        case .checkFailed(let m): m
        case .addressConflict(let m): m
        case .foreignLink(let n, let alias, let kind):
            "host interface \"\(n)\" exists (\(kind ?? "unknown kind"), alias \(alias.map { "\"\($0)\"" } ?? "none")) and is not this attachment's; left alone"
        }
    }
}

extension CNIError {
    /// Maps any error of ADD/DEL/CHECK onto a CNI error.
    static func from(bridge error: any Error) -> CNIError {
        switch error {
        case let e as BridgeError:
            switch e {
            case .checkFailed(let m): return CNIError(code: HoldfastErrorCode.checkFailed, msg: "check failed", details: m)
            case .notABridge, .addressConflict: return .invalidConfig(e.description)
            default: return CNIError(code: HoldfastErrorCode.kernel, msg: e.description)
            }
        case let e as BridgeConfigError:
            return .invalidConfig("invalid bridge configuration", details: e.description)
        case let e as NetlinkError:
            // A kernel (netlink) failure is ours to report as 110, not 100 "internal".
            return CNIError(code: HoldfastErrorCode.kernel, msg: e.description)
        case let e as MasqueradeError:
            return CNIError(code: HoldfastErrorCode.kernel, msg: "masquerade failed", details: e.description)
        default:
            return CNIError.from(ipam: error)
        }
    }
}
