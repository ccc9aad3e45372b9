/// A problem in a network config, naming the offending field (`ipam.ranges[0][1].subnet`,
/// `ipam.cluster.etcd.timeoutMs`, a conflist's path) and what is wrong with it, so
/// an operator can fix the config without guessing. The plugins map it to CNI
/// error 7 ("invalid network config").
///
/// Why here, in the lowest layer: every layer that validates config (the lease
/// service's `ipam` section, cluster mode, the watchdog reading a conflist)
/// names the field the same way, and one type lets an error from a lower layer
/// pass up unchanged instead of being copied field by field into another
/// type. Addressing is the one target all of them already depend on.
public struct ConfigFieldError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The field's path in the config, e.g. `ipam.kernelEvidence.proofDir`.
    public var field: String
    /// What is wrong, e.g. `must be 1...600000, got 0`.
    public var problem: String
    public var description: String { "\(field): \(problem)" }
    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }
}
