import Addressing
import IPAM
import KernelInventory

/// Kernel evidence for networks without a bridge: every network namespace on
/// the host, read by `NamespaceScan` within `KernelEvidenceConfig`'s bounds,
/// filtered to the network's ranges. A holder is named by its namespace path
/// and the interface the address sits on.
public enum NamespaceEvidence {
    public static func scan(for config: IPAMConfig) -> NamespaceScan {
        NamespaceScan(maxNamespaces: config.kernelEvidence.maxNamespaces, timeout: config.kernelEvidence.timeout)
    }

    /// Scans and returns the evidence. Throws `NamespaceScanError`.
    public static func read(_ scan: NamespaceScan, rangeSets: [RangeSet]) throws -> KernelEvidence {
        let result = try scan.run(wanted: { address in rangeSets.contains { $0.range(containing: address) != nil } })
        var names: [String: String] = [:]
        for a in result.addresses { names["\(a.address) \(a.netnsPath)"] = a.ifname }
        return KernelEvidence(observed: result.addresses.map { ObservedAddress(address: $0.address, netnsPath: $0.netnsPath) },
                              holder: { seen in
                                  LiveHolder(ifname: seen.netnsPath.flatMap { names["\(seen.address) \($0)"] },
                                             netns: seen.netnsPath)
                              })
    }
}
