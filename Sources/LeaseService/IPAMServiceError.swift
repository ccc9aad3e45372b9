import Addressing

/// Why the IPAM service refused or failed an operation. The plugin layer maps
/// each case to a CNI error code (see `CNIError+IPAM.swift`).
public enum IPAMServiceError: Error, CustomStringConvertible, Sendable {
    /// The network is frozen by an operator (`ipamctl freeze`): ADD must fail fast.
    case frozen(network: String, reason: String)
    /// No address is free in range set `rangeSet`.
    case exhausted(network: String, rangeSet: Int, detail: String)
    /// A requested address cannot be given.
    case requestedUnavailable(address: String, detail: String)
    /// More requested addresses than range sets can place.
    case requestedUnplaced([String])
    /// A mass release was refused: the evidence is too thin (empty or failed
    /// inventory, or more than the allowed fraction of live leases).
    case massReleaseRefused(String)
    /// CHECK found the store disagreeing with `prevResult`.
    case checkFailed(String)
    /// STATUS: the network cannot take ADDs now (frozen, or a range set is full).
    case notReady(String, details: String)

    public var description: String {
        switch self {
        case .frozen(let n, let r): "network \"\(n)\" is frozen: \(r)"
        case .exhausted(let n, let i, let d): "no free address in network \"\(n)\" range set \(i): \(d)"
        case .requestedUnavailable(let a, let d): "requested address \(a) is not available: \(d)"
        case .requestedUnplaced(let a): "requested addresses \(a.joined(separator: ", ")) are not in any configured range"
        case .massReleaseRefused(let m): m
        case .checkFailed(let m): m
        case .notReady(let m, let d): "\(m): \(d)"
        }
    }
}
