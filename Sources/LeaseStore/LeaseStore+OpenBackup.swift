import CSQLite

extension LeaseStore {
    /// Opens a backup file (any path, e.g. from `backup(to:)`) read-only, with
    /// the same identity checks as `openReadOnly`, so `ipamctl restore` can
    /// show what a restore would change before doing it.
    ///
    /// The returned store's `location` is nominal (the file's directory and
    /// name); only `read` is meaningful on it.
    /// - Throws: `.missing` for a missing or empty file, `.corrupt` for a file
    ///   that is not a Holdfast store.
    public static func openBackup(_ path: String) throws(StoreError) -> LeaseStore {
        guard let size = try Posix.fileSize(path), size > 0 else { throw .missing(path: path) }
        let suspicion = try inspectHeader(path).suspicion
        let connection = try SQLiteConnection(path: path, flags: SQLITE_OPEN_READONLY)
        connection.setBusyTimeout(milliseconds: readerBusyTimeoutMs)
        if try classify(connection, suspicion: suspicion) { throw .corrupt(path: path, detail: "holds no Holdfast store") }
        let name = path.split(separator: "/").last.map(String.init) ?? "backup"
        let location = (try? StoreLocation(dataDir: parentDirectory(of: path), network: name))
            ?? (try! StoreLocation(dataDir: "/", network: "backup"))
        return LeaseStore(location: location, connection: connection, readOnly: true)
    }
}
