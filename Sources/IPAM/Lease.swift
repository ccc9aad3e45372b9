#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing

/// Whether a lease still backs a live attachment.
public enum LeaseState: String, Sendable, Hashable, Codable {
    /// The container holds the address.
    case active
    /// DEL ran while the network was frozen: the container's networking is gone,
    /// but the address is only released on unfreeze, so an operator who froze the
    /// network during an incident sees exactly the leases that existed then.
    case pendingRelease = "pending-release"
}

/// One address held by one attachment (containerID + ifname).
///
/// Carries enough kernel-facing detail (host veth, its ifindex, the container's
/// MAC, the boot id) that reconcile can prove from kernel state whether the
/// holder still exists, instead of trusting the store alone.
public struct Lease: Sendable, Hashable, Codable {
    public var address: IPAddress
    /// Index of the range set (the `ranges` element) this address came from;
    /// a dual-stack attachment holds one lease per range set.
    public var rangeSetIndex: Int
    public var containerID: String
    public var ifname: String
    public var netns: String?
    public var createdAt: Date
    /// Host-side veth name, recorded by the bridge plugin.
    public var hostInterface: String?
    public var hostIfindex: Int?
    /// The container interface's MAC, as text (`aa:bb:...`).
    public var containerMAC: String?
    /// `/proc/sys/kernel/random/boot_id` at ADD: a lease from an earlier boot whose
    /// netns is gone is provably stale.
    public var bootID: String?
    public var state: LeaseState

    public init(address: IPAddress, rangeSetIndex: Int, containerID: String, ifname: String,
                netns: String?, createdAt: Date, hostInterface: String? = nil, hostIfindex: Int? = nil,
                containerMAC: String? = nil, bootID: String? = nil, state: LeaseState = .active) {
        self.address = address
        self.rangeSetIndex = rangeSetIndex
        self.containerID = containerID
        self.ifname = ifname
        self.netns = netns
        self.createdAt = createdAt
        self.hostInterface = hostInterface
        self.hostIfindex = hostIfindex
        self.containerMAC = containerMAC
        self.bootID = bootID
        self.state = state
    }
}

/// An ended lease, kept so an operator can answer "who had 10.0.0.5 at 21:00?".
public struct LeaseRecord: Sendable, Hashable, Codable {
    public var lease: Lease
    public var endedAt: Date
    /// Why it ended: `del`, `gc`, `reconcile`, `release`, ...
    public var reason: String

    public init(lease: Lease, endedAt: Date, reason: String) {
        self.lease = lease
        self.endedAt = endedAt
        self.reason = reason
    }
}

/// What the store says about one candidate address.
public enum Availability: Sendable, Hashable {
    /// Nobody holds it and its quarantine (if any) has passed.
    case free
    /// Released recently: peers may still have it in ARP caches or conntrack.
    case quarantined
    /// Held by a lease.
    case taken
}
