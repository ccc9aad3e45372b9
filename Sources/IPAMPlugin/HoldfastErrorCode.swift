/// Holdfast's plugin-specific CNI error codes (the spec reserves 0-99).
/// Stable: runtimes and operators may match on them.
public enum HoldfastErrorCode {
    /// An unexpected internal failure (SQLite, syscall); details say which.
    public static let `internal` = 100
    /// The lease store exists but is not a readable Holdfast store. Holdfast never
    /// starts empty over it; an operator restores a backup (`ipamctl restore`).
    public static let storeCorrupt = 101
    /// A requested address (CNI_ARGS IP=, args.cni.ips, runtimeConfig.ips) cannot be given.
    public static let requestedUnavailable = 102
    /// A mass release (GC, reconcile, release) was refused for thin evidence.
    public static let massReleaseRefused = 103
    /// CHECK found the attachment not as `prevResult` says.
    public static let checkFailed = 104
    /// Kernel state contradicts the store (an address configured on two holders).
    public static let addressConflict = 105
    /// Cluster mode: a block this node holds is owned by another node in etcd,
    /// so every ADD on the network is refused until an operator resolves it.
    public static let clusterBlockConflict = 106
    /// The kernel could not be read in full to prove no live container holds
    /// the address (a namespace unreadable, the scan's cap or deadline passed):
    /// nothing was allocated. Details name the namespace or the bound.
    public static let kernelEvidence = 107
    /// A netlink or nftables operation failed.
    public static let kernel = 110
}
