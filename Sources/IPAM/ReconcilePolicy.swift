/// Limits on how much one reconcile may free: the guard against acting on thin
/// evidence (an empty or failed inventory, or a bug that makes every holder look
/// gone), which is how IP bookkeeping ends up handing a live address out twice.
public struct ReconcilePolicy: Sendable, Hashable, Codable {
    /// Refuse when more than this fraction of all leases would be released.
    public var maxReleaseFraction: Double
    /// Refuse when more than this many leases would be released (nil: no limit).
    public var maxReleaseCount: Int?
    /// The operator's override after a dry run: skip every refusal. Even then no
    /// address seen live in the inventory is ever released.
    public var force: Bool
    /// `/proc/sys/kernel/random/boot_id` now; nil when unknown, which disables
    /// the boot-id evidence.
    public var currentBootID: String?

    public init(maxReleaseFraction: Double = 0.5, maxReleaseCount: Int? = nil, force: Bool = false,
                currentBootID: String? = nil) {
        self.maxReleaseFraction = maxReleaseFraction
        self.maxReleaseCount = maxReleaseCount
        self.force = force
        self.currentBootID = currentBootID
    }
}
