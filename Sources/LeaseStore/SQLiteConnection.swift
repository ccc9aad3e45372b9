import CSQLite
import CSQLiteVFS
#if canImport(Glibc)
import Glibc
#endif

/// The one place that talks to the SQLite C API.
///
/// Deliberately small: open/close, `exec` for pragmas and DDL, and cached
/// prepared statements, with every result code turned into a `StoreError` that
/// names the database path. Corruption codes (`SQLITE_CORRUPT`, `SQLITE_NOTADB`)
/// become `.corrupt` wherever they surface, so no caller can mistake a damaged
/// file for an empty one.
final class SQLiteConnection {
    let handle: OpaquePointer
    let path: String
    /// Sized for a plugin run's ~15 statements, so filling it never rehashes.
    private var cache = [String: OpaquePointer](minimumCapacity: 32)
    /// Frames in the WAL after this connection's last commit (sqlite3_wal_hook).
    private let walFrames = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    /// Opens `path` with `flags` (`SQLITE_OPEN_*`); always adds NOMUTEX (one
    /// connection per thread is our model) and EXRESCODE for precise errors,
    /// and uses the "holdfast-unix" VFS (one fsync per commit, see CSQLiteVFS).
    init(path: String, flags: Int32) throws(StoreError) {
        var db: OpaquePointer?
        let registered = holdfast_sqlite3_register_vfs()
        guard registered == SQLITE_OK else { throw Self.error(code: registered, message: "cannot register VFS", path: path) }
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, holdfast_sqlite3_vfs_name)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            let systemErrno = db.map { sqlite3_system_errno($0) } ?? 0
            sqlite3_close_v2(db)
            throw Self.error(code: rc, message: message, path: path, systemErrno: systemErrno)
        }
        self.handle = db
        self.path = path
        walFrames.initialize(to: 0)
    }

    deinit {
        for statement in cache.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
        walFrames.deallocate()
    }

    /// Maps a result code to the error callers match on. A storage failure
    /// (SQLITE_FULL, _IOERR, _READONLY, _CANTOPEN) becomes `.io` with the
    /// errno behind it (`sqlite3_system_errno`), so the answer can say "disk
    /// full" or "read-only file system" instead of a bare SQLite code.
    static func error(code: Int32, message: String, path: String, systemErrno: Int32 = 0) -> StoreError {
        switch code & 0xff {
        case SQLITE_CORRUPT, SQLITE_NOTADB: return .corrupt(path: path, detail: message)
        case SQLITE_FULL:
            return .io(operation: "sqlite \(path): \(message)", errno: systemErrno != 0 ? systemErrno : ENOSPC)
        case SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN:
            // SQLite's last errno can come from a later fallback (ENOENT for a
            // -shm it could not create); a read-only mount is the real cause.
            let cause = isOnReadOnlyMount(path) ? EROFS : systemErrno
            guard cause != 0 else { return .sqlite(code: code, message: message) }
            return .io(operation: "sqlite \(path): \(message)", errno: cause)
        default: return .sqlite(code: code, message: message)
        }
    }

    /// statvfs(2) of the database's directory reports ST_RDONLY.
    static func isOnReadOnlyMount(_ path: String) -> Bool {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        var fs = statvfs()
        return statvfs(directory.isEmpty ? "/" : directory, &fs) == 0 && fs.f_flag & UInt(ST_RDONLY) != 0
    }

    func error(_ code: Int32) -> StoreError {
        Self.error(code: code, message: String(cString: sqlite3_errmsg(handle)), path: path,
                   systemErrno: sqlite3_system_errno(handle))
    }

    /// Runs SQL that returns no rows we need (pragmas, DDL, BEGIN/COMMIT).
    func exec(_ sql: String) throws(StoreError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc) }
    }

    /// Keeps the WAL file and its index between processes: no checkpoint on
    /// close (`SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE`) and no delete
    /// (`SQLITE_FCNTL_PERSIST_WAL`), so a run that commits one transaction pays
    /// one fsync (the COMMIT) instead of five (new WAL header and its directory,
    /// COMMIT, then the close's checkpoint of WAL and main file).
    ///
    /// SQLite's own `wal_autocheckpoint` is turned off: `LeaseStore.write`
    /// bounds the WAL itself after its commit (`checkpointWriteAheadLog`,
    /// `truncateWriteAheadLog`), outside the commit's latency budget.
    func keepWriteAheadLog() throws(StoreError) {
        var on: Int32 = 1
        var rc = sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &on)
        guard rc == SQLITE_OK else { throw error(rc) }
        rc = holdfast_sqlite3_set_no_checkpoint_on_close(handle, 1)
        guard rc == SQLITE_OK else { throw error(rc) }
        // The C call, not the pragma: same effect without compiling a statement.
        rc = sqlite3_wal_autocheckpoint(handle, 0)
        guard rc == SQLITE_OK else { throw error(rc) }
        holdfast_sqlite3_track_wal_frames(handle, walFrames)
    }

    /// Frames in the WAL as of this connection's last commit (0 before one).
    var walFrameCount: Int { Int(walFrames.pointee) }

    /// Copies the WAL into the main file without truncating it
    /// (`SQLITE_CHECKPOINT_PASSIVE`, no waiting on readers), so the next
    /// writer restarts the log from its start; false when it did not finish.
    func checkpointWriteAheadLog() -> Bool {
        sqlite3_busy_timeout(handle, 0)
        var log: Int32 = 0, done: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &done)
        return rc == SQLITE_OK && log == done
    }

    /// Submits the WAL's dirty pages for writing without waiting (best effort),
    /// so a later `syncWriteAheadLog` mostly waits for the device's flush.
    func startWriteAheadLogWriteback() {
        _ = holdfast_sqlite3_start_wal_writeback(handle)
    }

    /// fdatasyncs the WAL: every frame this process (or any before it) wrote is
    /// on the disk when it returns.
    func syncWriteAheadLog() throws(StoreError) {
        let rc = holdfast_sqlite3_sync_wal(handle)
        guard rc == SQLITE_OK else { throw error(rc) }
    }

    /// Copies the WAL into the main file and truncates it to zero bytes
    /// (`SQLITE_CHECKPOINT_TRUNCATE`), without waiting: with no busy handler a
    /// reader still using the WAL makes it give up at once (`false`), so a
    /// listing never holds up the writer; the next commit tries again.
    func truncateWriteAheadLog() -> Bool {
        sqlite3_busy_timeout(handle, 0)
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
        return rc == SQLITE_OK
    }

    /// Sets how long SQLite itself retries on SQLITE_BUSY before giving up.
    func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(handle, milliseconds)
    }

    /// Total rows changed by this connection since it opened.
    var totalChanges: Int64 { sqlite3_total_changes64(handle) }
    /// Rows changed by the last INSERT/UPDATE/DELETE.
    var changes: Int64 { sqlite3_changes64(handle) }
    /// False when autocommit is off, i.e. inside BEGIN...COMMIT.
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// A prepared statement, compiled once per connection and reused: a plugin
    /// run issues the same handful of queries, and tools that loop (ipamctl,
    /// tests, benchmarks) skip recompiling.
    func statement(_ sql: String) throws(StoreError) -> Statement {
        if let cached = cache[sql] {
            return Statement(handle: cached, connection: self)
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc) }
        cache[sql] = stmt
        return Statement(handle: stmt, connection: self)
    }

    /// Prepares, binds and runs `sql`, calling `row` for each result row.
    /// The statement is reset afterwards even when `row` throws.
    func query(_ sql: String, _ bindings: [SQLValue] = [], row: (Statement) throws(StoreError) -> Void = { _ in }) throws(StoreError) {
        let stmt = try statement(sql)
        defer { stmt.reset() }
        try stmt.bind(bindings)
        while try stmt.step() {
            try row(stmt)
        }
    }

    /// Runs `sql` and returns the first column of the first row, if any.
    func scalarInt(_ sql: String, _ bindings: [SQLValue] = []) throws(StoreError) -> Int64? {
        var result: Int64?
        try query(sql, bindings) { stmt in
            if result == nil, !stmt.isNull(0) { result = stmt.int(0) }
        }
        return result
    }

    func scalarText(_ sql: String, _ bindings: [SQLValue] = []) throws(StoreError) -> String? {
        var result: String?
        try query(sql, bindings) { stmt in
            if result == nil { result = stmt.text(0) }
        }
        return result
    }
}

/// A value to bind to a `?` parameter.
enum SQLValue {
    case int(Int64)
    case text(String)
    case null

    static func optional(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    static func optional(_ value: Int?) -> SQLValue { value.map { .int(Int64($0)) } ?? .null }
}

/// A borrowed view of a cached prepared statement; valid until its connection closes.
struct Statement {
    let handle: OpaquePointer
    unowned let connection: SQLiteConnection

    /// SQLITE_TRANSIENT: SQLite copies the bound text, so Swift's temporary C string may go away.
    private var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }

    func bind(_ values: [SQLValue]) throws(StoreError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32 = switch value {
            case .int(let v): sqlite3_bind_int64(handle, index, v)
            case .text(let s): sqlite3_bind_text(handle, index, s, -1, transient)
            case .null: sqlite3_bind_null(handle, index)
            }
            guard rc == SQLITE_OK else { throw connection.error(rc) }
        }
    }

    /// Advances; true when a row is available, false when done.
    func step() throws(StoreError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(rc)
        }
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }
    func text(_ column: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: p)
    }
}
