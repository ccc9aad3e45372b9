import Addressing

/// What reconcile would do; applying it is the caller's job (and takes a backup
/// first). `keep` and `release` partition the input leases.
public struct ReconcilePlan: Sendable, Hashable, Codable {
    /// Live addresses with no lease: the store lost them. Adopting protects them
    /// from being handed out again.
    public var adopt: [ObservedAddress]
    public var keep: [Lease]
    /// Leases whose holder is provably gone and whose address is not live.
    public var release: [Lease]
    /// Contradictions between store and kernel, reported and never resolved here.
    public var conflicts: [Conflict]
    /// Set when the plan refused to release anything; `release` is then empty.
    public var refusal: Refusal?

    public init(adopt: [ObservedAddress], keep: [Lease], release: [Lease], conflicts: [Conflict], refusal: Refusal?) {
        self.adopt = adopt
        self.keep = keep
        self.release = release
        self.conflicts = conflicts
        self.refusal = refusal
    }
}

/// A contradiction about one address. Reconcile never picks a winner: a wrong
/// guess here is exactly the duplicate-IP incident.
public struct Conflict: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The address is configured on two different holders at once.
        case multipleHolders = "multiple-holders"
        /// The address is live on a holder other than the one its lease names
        /// (host interface or MAC differ).
        case holderMismatch = "holder-mismatch"
        /// The store holds two leases for the same address.
        case duplicateLeases = "duplicate-leases"
    }

    public var address: IPAddress
    public var kind: Kind
    public var leases: [Lease]
    public var observed: [ObservedAddress]
    public var detail: String

    public init(address: IPAddress, kind: Kind, leases: [Lease], observed: [ObservedAddress], detail: String) {
        self.address = address
        self.kind = kind
        self.leases = leases
        self.observed = observed
        self.detail = detail
    }

    public var description: String { "\(address): \(kind.rawValue): \(detail)" }
}

/// Why a plan releases nothing although some leases look stale.
public struct Refusal: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable, Codable {
        case inventoryFailed(String)
        case inventoryEmpty
        case exceedsFraction(limit: Double)
        case exceedsCount(limit: Int)
    }

    public var reason: Reason
    /// The leases that would have been released; shown by a dry run.
    public var wouldRelease: [Lease]
    /// Total leases considered.
    public var leaseCount: Int
    /// The operator-facing message.
    public var message: String

    public init(reason: Reason, wouldRelease: [Lease], leaseCount: Int) {
        self.reason = reason
        self.wouldRelease = wouldRelease
        self.leaseCount = leaseCount
        let n = wouldRelease.count
        let why: String
        switch reason {
        case .inventoryFailed(let m): why = "the kernel inventory failed (\(m)), so missing addresses prove nothing"
        case .inventoryEmpty: why = "the kernel inventory is empty while \(leaseCount) leases exist"
        case .exceedsFraction(let f): why = "that is more than \(Int((f * 100).rounded()))% of the \(leaseCount) leases"
        case .exceedsCount(let c): why = "that is more than the limit of \(c) releases"
        }
        message = "refusing to release \(n) of \(leaseCount) leases: \(why); rerun with --force after a dry run"
    }

    public var description: String { message }
}
