import Addressing

/// Everything the lease store can fail with.
///
/// Typed so the plugin can map each case to a CNI error code: a lock timeout is
/// "try again later" (11), a corrupt or missing store must stop allocation
/// instead of starting over with an empty pool (which would hand out live
/// addresses a second time).
public enum StoreError: Error, Sendable, Equatable {
    /// Another process held the store's flock for longer than the deadline.
    case lockTimeout(waited: Duration)
    /// The database file exists but is not a usable Holdfast store (random bytes,
    /// a truncated file, another program's SQLite file, failed `quick_check`).
    /// The file is left untouched for the operator to inspect or restore.
    case corrupt(path: String, detail: String)
    /// A read-only open found no initialised store at `path`.
    case missing(path: String)
    /// A system call failed; `operation` names the call and the path.
    case io(operation: String, errno: Int32)
    /// SQLite reported an error that is not corruption; `code` is the extended result code.
    case sqlite(code: Int32, message: String)
    /// The network name cannot be used as a directory name.
    case invalidName(String)
    /// `insert` found a lease already holding the address.
    case addressTaken(IPAddress)
    /// `update` or `release` found no lease for that address and attachment.
    case leaseNotFound(IPAddress)
    /// A mutation was attempted through a read-only store or inside `read { }`,
    /// which holds no flock and so must never write.
    case readOnly(operation: String)
}
