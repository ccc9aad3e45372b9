import CNI
import IPAMPlugin
import Glibc

/// Failures of the bridge plugin's own steps (the IPAM layers have theirs).
enum BridgeError: Error, CustomStringConvertible {
    case system(String, Int32)
    case notABridge(String)
    case interfaceExists(name: String, netns: String)
    case checkFailed(String)

    var description: String {
        switch self {
        case .system(let op, let e): "\(op): \(String(cString: strerror(e)))"
        case .notABridge(let n): "\"\(n)\" exists but is not a bridge"
        case .interfaceExists(let n, let ns): "interface \"\(n)\" already exists in \(ns) and is not a leftover of this attachment"
        case .checkFailed(let m): m
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
            case .notABridge: return .invalidConfig(e.description)
            default: return CNIError(code: HoldfastErrorCode.kernel, msg: e.description)
            }
        case let e as BridgeConfigError:
            return .invalidConfig("invalid bridge configuration", details: e.description)
        case let e as MasqueradeError:
            return CNIError(code: HoldfastErrorCode.kernel, msg: "masquerade failed", details: e.description)
        default:
            return CNIError.from(ipam: error)
        }
    }
}
