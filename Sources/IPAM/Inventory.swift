import Addressing

/// Whether the kernel inventory was gathered in full.
public enum InventoryStatus: Sendable, Hashable, Codable {
    /// Every bridge port and every peer namespace was read.
    case complete
    /// Gathering failed part-way (netlink error, permission, timeout): what was
    /// observed is real, but what was *not* observed proves nothing.
    case failed(String)
}

/// One address seen configured on a container attached to the bridge.
///
/// Fields are optional because different kernel sources know different things
/// (an address dump in a peer netns knows the netns id, the neighbour table only
/// the MAC); two observations whose known fields agree describe the same holder.
public struct ObservedAddress: Sendable, Hashable, Codable {
    public var address: IPAddress
    /// Host-side veth name (the bridge port).
    public var hostInterface: String?
    public var hostIfindex: Int?
    /// The peer namespace's id as seen from the host (`link-netnsid`).
    public var netnsID: String?
    /// A path to the namespace, when known (`/var/run/netns/...`, `/proc/PID/ns/net`).
    public var netnsPath: String?
    /// The container interface's MAC, as text.
    public var mac: String?

    public init(address: IPAddress, hostInterface: String? = nil, hostIfindex: Int? = nil,
                netnsID: String? = nil, netnsPath: String? = nil, mac: String? = nil) {
        self.address = address
        self.hostInterface = hostInterface
        self.hostIfindex = hostIfindex
        self.netnsID = netnsID
        self.netnsPath = netnsPath
        self.mac = mac
    }

    /// Whether `other` provably belongs to a different holder: some field known
    /// on both sides differs. Observations that agree on everything they both know
    /// are treated as the same holder seen through two sources.
    public func isDifferentHolder(from other: ObservedAddress) -> Bool {
        func differs<T: Equatable>(_ a: T?, _ b: T?) -> Bool {
            if let a, let b { return a != b }
            return false
        }
        return differs(hostInterface, other.hostInterface) || differs(hostIfindex, other.hostIfindex)
            || differs(netnsID, other.netnsID) || differs(netnsPath, other.netnsPath)
            || differs(normalizedMAC(mac), normalizedMAC(other.mac))
    }
}

/// MAC text compared case- and format-insensitively (`AA:BB:..` == `aa:bb:..`).
func normalizedMAC(_ text: String?) -> String? {
    guard let text else { return nil }
    return MACAddress(text)?.description ?? text.lowercased()
}

/// Kernel truth for one network, as gathered by the caller (netlink, /proc).
/// The planner trusts only what is in here, and treats absence of evidence as
/// evidence only when `status` is `.complete`.
public struct Inventory: Sendable, Hashable, Codable {
    public var status: InventoryStatus
    /// Addresses configured live on containers attached to the network's bridge.
    public var observed: [ObservedAddress]
    /// Which of the leases' netns paths still exist on this host.
    public var existingNetnsPaths: Set<String>

    public init(status: InventoryStatus, observed: [ObservedAddress], existingNetnsPaths: Set<String>) {
        self.status = status
        self.observed = observed
        self.existingNetnsPaths = existingNetnsPaths
    }
}
