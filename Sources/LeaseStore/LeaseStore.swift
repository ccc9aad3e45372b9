import CSQLite
#if canImport(Glibc)
import Glibc
#endif

/// The durable record of which attachment holds which address on one network.
///
/// Contracts:
/// - Durability: SQLite in WAL mode; `write` returns only after its COMMIT is
///   fsync'd (the WAL is fdatasync'd after the flock is released, so writers do
///   not wait for each other's fsync); a lease survives `kill -9` and power loss
///   once the plugin has printed its result. The WAL and its index persist
///   between processes (no checkpoint or delete on close), so a steady-state
///   run that commits once pays exactly one fsync.
/// - Concurrency: writers serialise on an flock (`write`); readers take no lock
///   and see a consistent WAL snapshot (`read`), so listings never hold up ADD/DEL.
/// - Safety: a file that is not a valid Holdfast store is reported as
///   `StoreError.corrupt` and left untouched; the store never silently starts
///   empty, since an empty store would hand out addresses live containers hold.
///
/// One per process and thread; not Sendable (it owns a SQLite connection).
public final class LeaseStore {
    public let location: StoreLocation
    /// True for `openReadOnly` stores: `write` throws `.readOnly`.
    public let isReadOnly: Bool
    let connection: SQLiteConnection

    /// Writes meta row ?1: sets it to ?2 when ?3 is 0; when ?3 is 1, adds ?2 to
    /// the integer it holds, creating it at ?2 when missing (a store whose
    /// generation row was lost still counts). Setting a key, the generation
    /// bump and the metrics counters share this one statement, so a run
    /// compiles it once (about 40 K instructions per statement SQLite compiles).
    static let upsertMetaSQL = """
        INSERT INTO meta (key, value) VALUES (?1, ?2)
        ON CONFLICT (key) DO UPDATE SET
            value = iif(?3, CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER), excluded.value)
        """

    /// Increments meta `generation` on `connection`.
    static func bumpGeneration(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.query(upsertMetaSQL, [.text(MetaKey.generation.rawValue), .int(1), .int(1)])
    }

    /// SQLite's own retry budget for SQLITE_BUSY outside `write` (a reader
    /// meeting a checkpoint or WAL recovery): short, so a reader never stalls.
    static let readerBusyTimeoutMs: Int32 = 200

    /// WAL length (frames of one 4 KiB page each, ≈ 256 KiB) past which a
    /// commit checkpoints it. The checkpoint is PASSIVE and leaves the file's
    /// length alone: the next writer restarts the log at its start, so commits
    /// overwrite blocks the file already has (an fdatasync that need not commit
    /// the inode's new size: ≈ 0.1 ms instead of 0.2, docs/benchmarks.md). That
    /// restart needs the WAL index to survive from one plugin process to the
    /// next (ShmTrust.c); where it cannot, the log keeps growing and the commit
    /// that finds it at twice the bound truncates it instead, so it stays
    /// bounded either way.
    static let walCheckpointFrames = 64

    init(location: StoreLocation, connection: SQLiteConnection, readOnly: Bool) {
        self.location = location
        self.connection = connection
        self.isReadOnly = readOnly
    }

    /// Opens the store for reading and writing, creating `<dataDir>/<network>`
    /// (mode 0700) and the schema when the database is new.
    ///
    /// Cheap on an existing store: a 100-byte header read, `application_id` and
    /// `user_version`; `quick_check` runs only when the header looks wrong.
    /// Throws `.corrupt` for random bytes, truncated files, another program's
    /// SQLite file or an unknown schema version, leaving the file untouched.
    ///
    /// Creating the schema happens under the network's flock: without it, two
    /// first ADDs racing on a new network could see each other's half-created
    /// file and call it corrupt. A store that looks new or damaged without the
    /// lock is looked at again holding it (waiting at most `lockTimeout`), so only
    /// a verdict reached under the lock is final.
    public static func open(_ location: StoreLocation, lockTimeout: Duration = .seconds(5)) throws(StoreError) -> LeaseStore {
        try Posix.makeDirectories(location.directory)
        do {
            if let store = try openExisting(location, mayCreate: false) { return store }
        } catch {
            guard case .corrupt = error else { throw error }
        }
        do {
            return try FileLock.withLock(path: location.lockPath, timeout: lockTimeout) { () throws -> LeaseStore in
                try openExisting(location, mayCreate: true)!
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .sqlite(code: SQLITE_ERROR, message: "\(error)")
        }
    }

    /// One attempt at opening; nil when the database is new and `mayCreate` is false.
    private static func openExisting(_ location: StoreLocation, mayCreate: Bool) throws(StoreError) -> LeaseStore? {
        let path = location.databasePath
        if !mayCreate, (try Posix.fileSize(path) ?? 0) == 0 { return nil }
        let header = try inspectHeader(path)
        let connection = try SQLiteConnection(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        connection.setBusyTimeout(milliseconds: 1000)
        // Validate before any pragma that writes: switching a foreign rollback-journal
        // database to WAL would modify a file we must not touch.
        let isNew = try classify(connection, suspicion: header.suspicion)
        if isNew && !mayCreate { return nil }
        // A file whose header says WAL is opened in WAL mode by SQLite itself
        // (every store after its first open); only a new file is switched.
        if isNew || !header.isWriteAheadLogged {
            let mode = try connection.scalarText("PRAGMA journal_mode = WAL")
            guard mode == "wal" else {
                throw .sqlite(code: SQLITE_ERROR, message: "could not switch \(path) to WAL (journal_mode is \(mode ?? "unknown"))")
            }
        }
        // NORMAL: COMMIT does not fsync; `write` fdatasyncs the WAL itself after
        // releasing the flock, before it returns, so concurrent writers do not
        // queue behind each other's fsync and the commit is still durable
        // before any caller answers. A checkpoint still syncs the WAL before
        // and the main file after copying.
        try connection.exec("PRAGMA synchronous = NORMAL")
        try connection.keepWriteAheadLog()
        if isNew { try createSchema(connection) } else { try ensureLeaseTriggers(connection) }
        connection.setBusyTimeout(milliseconds: readerBusyTimeoutMs)
        return LeaseStore(location: location, connection: connection, readOnly: false)
    }

    /// Opens an existing store for reading only (ipamctl, metrics): no flock, no
    /// directory or schema creation. Throws `.missing` when there is no
    /// initialised store, `.corrupt` when the file is not ours.
    public static func openReadOnly(_ location: StoreLocation) throws(StoreError) -> LeaseStore {
        let path = location.databasePath
        guard let size = try Posix.fileSize(path), size > 0 else { throw .missing(path: path) }
        let suspicion = try inspectHeader(path).suspicion
        let connection = try SQLiteConnection(path: path, flags: SQLITE_OPEN_READONLY)
        connection.setBusyTimeout(milliseconds: readerBusyTimeoutMs)
        if try classify(connection, suspicion: suspicion) { throw .missing(path: path) }
        return LeaseStore(location: location, connection: connection, readOnly: true)
    }

    /// Takes the network's flock (polling with backoff until `lockTimeout`, then
    /// `.lockTimeout`) and runs `body` in one `BEGIN IMMEDIATE` transaction:
    /// COMMIT (fsync'd) when it returns, ROLLBACK when it throws. The lock is
    /// released when its fd closes at the end of the call, so a SIGKILLed holder
    /// never blocks the next process.
    ///
    /// When `body` changed any row, meta `generation` is incremented in the same
    /// transaction, so a later reader can tell whether the store moved since it
    /// last compared it with kernel state.
    ///
    /// `whileSyncing` runs after a successful commit, once the lock is released
    /// and the WAL's writes are submitted, before the fdatasync `write` waits
    /// for: work that needs no durability (metrics) overlaps the disk's instead
    /// of adding to it. It never runs for a failed write.
    public func write<T>(lockTimeout: Duration, whileSyncing: () -> Void = {},
                         _ body: (LeaseTransaction) throws -> T) throws -> T {
        guard !isReadOnly else { throw StoreError.readOnly(operation: "write on read-only store \(location.databasePath)") }
        precondition(!connection.inTransaction, "LeaseStore.write called inside another transaction")
        let clock = ContinuousClock()
        let deadline = clock.now + lockTimeout
        let result = try FileLock.withLock(path: location.lockPath, timeout: lockTimeout) { () throws -> T in
            // Holding the flock, only non-Holdfast processes or a concurrent schema
            // creation can make BEGIN IMMEDIATE busy; wait for them no longer than
            // the caller's budget allows.
            let remaining = deadline - clock.now
            let remainingMs = Int32(clamping: remaining.milliseconds)
            connection.setBusyTimeout(milliseconds: max(remainingMs, 10))
            defer { connection.setBusyTimeout(milliseconds: Self.readerBusyTimeoutMs) }
            try connection.exec("BEGIN IMMEDIATE")
            let transaction = LeaseTransaction(connection: connection, writable: true)
            do {
                let before = connection.totalChanges
                let result = try body(transaction)
                if connection.totalChanges != before {
                    try Self.bumpGeneration(connection)
                }
                try connection.exec("COMMIT")
                transaction.scope.isOpen = false
                // Durable now; bounding the WAL is housekeeping that may not fail the write.
                boundWriteAheadLog()
                return result
            } catch {
                transaction.scope.isOpen = false
                if connection.inTransaction { try? connection.exec("ROLLBACK") }
                throw error
            }
        }
        // Committed (visible to the next holder of the lock) but not yet on the
        // disk: the fsync that makes it durable runs outside the lock.
        connection.startWriteAheadLogWriteback()
        whileSyncing()
        try connection.syncWriteAheadLog()
        return result
    }

    /// Checkpoints a WAL past `walCheckpointFrames` (never waiting for a reader:
    /// the next commit tries again), truncating it only when restarts have not
    /// been keeping it short.
    private func boundWriteAheadLog() {
        let frames = connection.walFrameCount
        if frames > 2 * Self.walCheckpointFrames {
            _ = connection.truncateWriteAheadLog()
        } else if frames > Self.walCheckpointFrames {
            _ = connection.checkpointWriteAheadLog()
        }
    }

    /// Runs `body` against one consistent snapshot (a deferred transaction over
    /// the WAL) without taking the flock: it never waits for a writer.
    public func read<T>(_ body: (LeaseTransaction) throws -> T) throws -> T {
        precondition(!connection.inTransaction, "LeaseStore.read called inside another transaction")
        try connection.exec("BEGIN DEFERRED")
        let transaction = LeaseTransaction(connection: connection, writable: false)
        defer {
            transaction.scope.isOpen = false
            if connection.inTransaction { try? connection.exec("ROLLBACK") }
        }
        return try body(transaction)
    }

    /// Full `PRAGMA integrity_check` plus the identity checks of `open`, for
    /// `ipamctl verify`; throws `.corrupt` with SQLite's findings.
    public func verify() throws(StoreError) {
        _ = try Self.classify(connection, suspicion: nil)
        var problems: [String] = []
        try connection.query("PRAGMA integrity_check(20)") { stmt in
            if let line = stmt.text(0), line != "ok" { problems.append(line) }
        }
        guard problems.isEmpty else {
            throw .corrupt(path: connection.path, detail: "integrity_check: \(problems.joined(separator: "; "))")
        }
    }

    /// Copies the WAL into the main file and truncates the WAL
    /// (`wal_checkpoint(TRUNCATE)`). Never needed for correctness; useful before
    /// copying files by hand and in tests that inspect the main file.
    public func checkpoint() throws(StoreError) {
        guard !isReadOnly else { throw .readOnly(operation: "checkpoint") }
        var logFrames: Int32 = 0, checkpointed: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_TRUNCATE, &logFrames, &checkpointed)
        guard rc == SQLITE_OK else { throw connection.error(rc) }
    }
}
