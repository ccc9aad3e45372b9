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
        guard try Posix.fileSize(path) == nil else { throw .io(operation: "backup to \(path)", errno: EEXIST) }
        do {
            try copyDatabase(to: path)
            try Posix.fsync(path: path)
            try Posix.fsync(path: Self.parentDirectory(of: path), directory: true)
        } catch {
            try? Posix.unlinkIfPresent(path)
            try? Posix.unlinkIfPresent(path + "-journal")
            throw error
        }
    }

    private func copyDatabase(to path: String) throws(StoreError) {
        let destination = try SQLiteConnection(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        guard let backup = sqlite3_backup_init(destination.handle, "main", connection.handle, "main") else {
            throw destination.error(sqlite3_errcode(destination.handle))
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
        guard rc == SQLITE_DONE else { throw connection.error(rc == SQLITE_OK ? SQLITE_BUSY : rc) }
        guard finish == SQLITE_OK else { throw destination.error(finish) }
        guard try destination.scalarText("PRAGMA journal_mode = DELETE") == "delete" else {
            throw .sqlite(code: SQLITE_ERROR, message: "could not make backup \(path) a single-file database")
        }
    }

    /// Replaces the store at `location` with the backup at `backupPath`.
    ///
    /// 1. Validates the backup (Holdfast identity, schema version, `quick_check`).
    /// 2. Under the network's flock (so no writer is mid-transaction): copies it
    ///    to a temporary file in the store directory, stamps meta `restored_at`
    ///    (the plugin must reconcile against the kernel before its next
    ///    allocation, because an old backup lacks leases of running containers),
    ///    bumps `generation`, writes an audit line, and fsyncs.
    /// 3. Keeps the previous database (even a corrupt one) as
    ///    `leases.db.pre-restore-<ms>` (a hard link, with its WAL renamed beside
    ///    it), then renames the new file over `leases.db` and fsyncs the directory.
    ///    `leases.db` exists at every instant, so no concurrent open can mistake
    ///    the gap for a new store.
    ///
    /// Returns the preserved previous database's path, or nil if there was none.
    /// Processes that keep the store open across a restore go on seeing the old
    /// file; plugin runs and ipamctl are short-lived, which is why that is acceptable.
    @discardableResult
    public static func restore(from backupPath: String, to location: StoreLocation,
                               lockTimeout: Duration = .seconds(10), actor: String = "ipamctl",
                               at now: Date = Date()) throws(StoreError) -> String? {
        // 1. The backup must be a healthy Holdfast store before anything changes.
        do {
            let suspicion = try inspectFile(backupPath)
            guard try Posix.fileSize(backupPath) ?? 0 > 0 else { throw .corrupt(path: backupPath, detail: "backup is empty") }
            let backup = try SQLiteConnection(path: backupPath, flags: SQLITE_OPEN_READONLY)
            if try classify(backup, suspicion: suspicion) {
                throw .corrupt(path: backupPath, detail: "backup holds no Holdfast store")
            }
            try quickCheck(backup, reason: "validating backup")
        }
        try Posix.makeDirectories(location.directory)
        let live = location.databasePath
        let temporary = location.directory + "/leases.db.restore-tmp"
        let lockFD = try FileLock.acquire(path: location.lockPath, timeout: lockTimeout)
        defer { close(lockFD) }
        do {
            // 2. Prepare the replacement next to the live file (same filesystem, so rename is atomic).
            for suffix in ["", "-journal", "-wal", "-shm"] { try Posix.unlinkIfPresent(temporary + suffix) }
            try Posix.copyFile(backupPath, to: temporary)
            do {
                let fresh = try SQLiteConnection(path: temporary, flags: SQLITE_OPEN_READWRITE)
                try fresh.exec("PRAGMA synchronous = FULL")
                try fresh.exec("BEGIN IMMEDIATE")
                try fresh.query("INSERT INTO meta (key, value) VALUES ('restored_at', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                [.text(String(now.milliseconds))])
                try fresh.query("INSERT INTO meta (key, value) VALUES ('restored_from', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                [.text(backupPath)])
                try fresh.query("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
                try fresh.query("INSERT INTO audit (at, actor, action, detail) VALUES (?1, ?2, 'restore', ?3)",
                                [.int(now.milliseconds), .text(actor), .text("restored from \(backupPath)")])
                try fresh.exec("COMMIT")
                guard try fresh.scalarText("PRAGMA journal_mode = WAL") == "wal" else {
                    throw .sqlite(code: SQLITE_ERROR, message: "could not switch \(temporary) to WAL")
                }
            }
            try Posix.fsync(path: temporary)

            // 3. Fold the live WAL into its database (best effort: a corrupt file
            // may refuse), keep the old pair, then swap.
            var preserved: String?
            if try Posix.fileSize(live) != nil {
                if let old = try? SQLiteConnection(path: live, flags: SQLITE_OPEN_READWRITE) {
                    sqlite3_wal_checkpoint_v2(old.handle, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
                }
                let keep = location.directory + "/leases.db.pre-restore-\(now.milliseconds)"
                try Posix.link(live, keep)
                if try Posix.fileSize(live + "-wal") ?? 0 > 0 {
                    try Posix.rename(live + "-wal", keep + "-wal")
                } else {
                    try Posix.unlinkIfPresent(live + "-wal")
                }
                try Posix.unlinkIfPresent(live + "-shm")
                preserved = keep
            }
            try Posix.rename(temporary, live)
            try Posix.fsync(path: location.directory, directory: true)
            return preserved
        }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
