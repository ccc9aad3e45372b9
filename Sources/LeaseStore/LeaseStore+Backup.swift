#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CSQLite
#if canImport(Glibc)
import Glibc
#endif

extension LeaseStore {
    /// Writes a consistent copy of the store to a new file at `path` with
    /// SQLite's online backup API: no flock, so ADD/DEL continue meanwhile.
    ///
    /// The copy is a self-contained rollback-journal database (no `-wal` beside
    /// it), fsync'd together with its directory before this returns, so a
    /// destructive command that backs up first can rely on it. Throws `.io`
    /// with EEXIST when `path` exists; a partial file is removed on failure.
    public func backup(to path: String) throws(StoreError) {
        try Self.backup(connection, to: path)
    }

    /// Copies the database behind `source` into a new single-file database at
    /// `path`, fsync'd with its directory; removes the partial file on failure.
    static func backup(_ source: SQLiteConnection, to path: String) throws(StoreError) {
        guard try Posix.fileSize(path) == nil else { throw .io(operation: "backup to \(path)", errno: EEXIST) }
        do throws(StoreError) {
            do {
                let destination = try SQLiteConnection(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
                try copy(from: source, to: destination)
                guard try destination.scalarText("PRAGMA journal_mode = DELETE") == "delete" else {
                    throw .sqlite(code: SQLITE_ERROR, message: "could not make backup \(path) a single-file database")
                }
            }
            try Posix.fsync(path: path)
            try Posix.fsync(path: Self.parentDirectory(of: path), directory: true)
        } catch {
            try? Posix.unlinkIfPresent(path)
            try? Posix.unlinkIfPresent(path + "-journal")
            throw error
        }
    }

    /// Replaces the whole content of `destination` with `source` through
    /// SQLite's online backup API: one write transaction on the destination,
    /// so its other connections (in any process) see either all of it or none.
    static func copy(from source: SQLiteConnection, to destination: SQLiteConnection) throws(StoreError) {
        guard let backup = sqlite3_backup_init(destination.handle, "main", source.handle, "main") else {
            throw destination.error(sqlite3_extended_errcode(destination.handle))
        }
        var rc: Int32
        var attempts = 0
        repeat {
            rc = sqlite3_backup_step(backup, -1)
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED {
                attempts += 1
                Posix.sleep(nanoseconds: 5_000_000)
            }
        } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && attempts < 400
        let finish = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE else {
            throw SQLiteConnection.error(code: rc == SQLITE_OK ? SQLITE_BUSY : rc,
                                         message: "backup from \(source.path) to \(destination.path): \(String(cString: sqlite3_errstr(rc)))",
                                         path: destination.path)
        }
        guard finish == SQLITE_OK else { throw destination.error(finish) }
    }

    /// Replaces the store at `location` with the backup at `backupPath`.
    ///
    /// 1. Validates the backup (Holdfast identity, schema version, `quick_check`).
    /// 2. Under the network's flock (so no writer is mid-transaction): copies it
    ///    to a temporary file in the store directory and, there, stamps meta
    ///    `restored_at` (the plugin must reconcile against the kernel before its
    ///    next allocation, because an old backup lacks leases of running
    ///    containers), bumps `generation` and writes an audit line.
    /// 3. Keeps the previous database as `leases.db.pre-restore-<ms>`.
    /// 4. Healthy live store: copies the prepared file into it with the online
    ///    backup API, one fsync'd transaction that every open connection sees
    ///    coherently. Missing or corrupt live store: renames the prepared file
    ///    over it (the corrupt file survives as the hard link from step 3, its
    ///    WAL renamed beside it) and fsyncs the directory; `leases.db` exists at
    ///    every instant, so no concurrent open mistakes the gap for a new store.
    ///
    /// Returns the preserved previous database's path, or nil if there was none.
    @discardableResult
    public static func restore(from backupPath: String, to location: StoreLocation,
                               lockTimeout: Duration = .seconds(10), actor: String = "ipamctl",
                               at now: Date = Date()) throws(StoreError) -> String? {
        // 1. The backup must be a healthy Holdfast store before anything changes.
        do {
            guard try Posix.fileSize(backupPath) ?? 0 > 0 else { throw .corrupt(path: backupPath, detail: "backup is missing or empty") }
            let suspicion = try inspectHeader(backupPath).suspicion
            let backup = try SQLiteConnection(path: backupPath, flags: SQLITE_OPEN_READONLY)
            if try classify(backup, suspicion: suspicion) {
                throw .corrupt(path: backupPath, detail: "backup holds no Holdfast store")
            }
            try quickCheck(backup, reason: "validating backup")
        }
        try Posix.makeDirectories(location.directory)
        let live = location.databasePath
        let temporary = location.directory + "/leases.db.restore-tmp"
        let keep = location.directory + "/leases.db.pre-restore-\(now.milliseconds)"
        let lockFD = try FileLock.acquire(path: location.lockPath, timeout: lockTimeout)
        defer { lockFD.closeQuietly() }

        // 2. Prepare the replacement next to the live file (same filesystem, so rename is atomic).
        for suffix in ["", "-journal", "-wal", "-shm"] { try Posix.unlinkIfPresent(temporary + suffix) }
        defer { try? Posix.unlinkIfPresent(temporary); try? Posix.unlinkIfPresent(temporary + "-journal") }
        try Posix.copyFile(backupPath, to: temporary)
        let fresh = try SQLiteConnection(path: temporary, flags: SQLITE_OPEN_READWRITE)
        try fresh.exec("PRAGMA synchronous = FULL")
        try fresh.exec("BEGIN IMMEDIATE")
        let upsert = "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        try fresh.query(upsert, [.text(MetaKey.restoredAt.rawValue), .text(String(now.milliseconds))])
        try fresh.query(upsert, [.text(MetaKey.restoredFrom.rawValue), .text(backupPath)])
        try LeaseStore.bumpGeneration(fresh)
        try fresh.query("INSERT INTO audit (at, actor, action, detail) VALUES (?1, ?2, 'restore', ?3)",
                        [.int(now.milliseconds), .text(actor), .text("restored from \(backupPath)")])
        try fresh.exec("COMMIT")

        // 3 + 4a. A healthy live store is kept as a backup copy and then overwritten in place.
        if let current = try? openValidated(live) {
            try backup(current, to: keep)
            try current.exec("PRAGMA synchronous = FULL")
            try copy(from: fresh, to: current)
            return keep
        }

        // 3 + 4b. Missing or corrupt: swap files, keeping the old pair untouched.
        guard try fresh.scalarText("PRAGMA journal_mode = WAL") == "wal" else {
            throw .sqlite(code: SQLITE_ERROR, message: "could not switch \(temporary) to WAL")
        }
        try Posix.fsync(path: temporary)
        var preserved: String?
        if try Posix.fileSize(live) != nil {
            try Posix.link(live, keep)
            if try Posix.fileSize(live + "-wal") != nil { try Posix.rename(live + "-wal", keep + "-wal") }
            try Posix.unlinkIfPresent(live + "-shm")
            preserved = keep
        }
        try Posix.rename(temporary, live)
        try Posix.fsync(path: location.directory, directory: true)
        return preserved
    }

    /// Opens an existing database and runs `open`'s identity checks; throws for
    /// anything that is not an initialised, healthy Holdfast store.
    private static func openValidated(_ path: String) throws(StoreError) -> SQLiteConnection {
        guard try Posix.fileSize(path) ?? 0 > 0 else { throw .missing(path: path) }
        let suspicion = try inspectHeader(path).suspicion
        let connection = try SQLiteConnection(path: path, flags: SQLITE_OPEN_READWRITE)
        connection.setBusyTimeout(milliseconds: 1000)
        if try classify(connection, suspicion: suspicion) { throw .missing(path: path) }
        return connection
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
