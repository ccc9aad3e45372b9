/// Where one network's lease store lives on disk.
///
/// The network name comes from the CNI config (`name`), i.e. from whoever wrote
/// the config file, so it is validated before it becomes a path component: a
/// name like `../etc` must never steer the store outside `dataDir`.
public struct StoreLocation: Sendable, Hashable {
    public let dataDir: String
    public let network: String

    /// Longest accepted network name in bytes; well under NAME_MAX (255) so that
    /// suffixes like `-wal` or a restore's temporary name still fit.
    public static let maxNameBytes = 200

    /// Validates `network`: non-empty, at most 200 bytes of UTF-8, no `/`, no NUL,
    /// no leading `.` (which also rules out `.` and `..` and hidden files).
    /// Throws `StoreError.invalidName` otherwise; `dataDir` must be non-empty.
    public init(dataDir: String, network: String) throws(StoreError) {
        let bytes = Array(network.utf8)
        guard !bytes.isEmpty else { throw .invalidName("network name is empty") }
        guard bytes.count <= Self.maxNameBytes else {
            throw .invalidName("network name is \(bytes.count) bytes, the limit is \(Self.maxNameBytes)")
        }
        guard !bytes.contains(UInt8(ascii: "/")) else { throw .invalidName("network name \"\(network)\" contains '/'") }
        guard !bytes.contains(0) else { throw .invalidName("network name contains a NUL byte") }
        guard bytes.first != UInt8(ascii: ".") else {
            throw .invalidName("network name \"\(network)\" starts with '.'")
        }
        guard !dataDir.isEmpty, !dataDir.utf8.contains(0) else { throw .invalidName("data directory is empty or contains NUL") }
        self.dataDir = dataDir
        self.network = network
    }

    /// `<dataDir>/<network>`: one directory per network, so networks never share a lock.
    public var directory: String {
        dataDir.hasSuffix("/") ? dataDir + network : dataDir + "/" + network
    }
    /// The flock'd file that serialises writers across processes.
    public var lockPath: String { directory + "/lock" }
    /// The SQLite database (its `-wal` and `-shm` files sit next to it).
    public var databasePath: String { directory + "/leases.db" }
}
