import CSQLite

extension LeaseStore {
    /// `PRAGMA application_id` of every Holdfast store: "HFDS" (Holdfast Data
    /// Store). Lets open tell our database from another program's SQLite file
    /// without scanning the schema.
    static let applicationID: Int64 = 0x4846_4453
    /// `PRAGMA user_version`: the schema revision this build writes and reads.
    static let schemaVersion: Int64 = 1

    /// Version 1 of the schema. Addresses are canonical text (they are the
    /// primary key and what an operator greps for); dates are integer
    /// milliseconds since 1970.
    static let schemaSQL = """
        CREATE TABLE IF NOT EXISTS leases (
            address TEXT PRIMARY KEY NOT NULL,
            range_set INTEGER NOT NULL,
            container_id TEXT NOT NULL,
            ifname TEXT NOT NULL,
            netns TEXT,
            created_at INTEGER NOT NULL,
            host_interface TEXT,
            host_ifindex INTEGER,
            container_mac TEXT,
            boot_id TEXT,
            state TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS leases_attachment ON leases (container_id, ifname);
        CREATE TABLE IF NOT EXISTS history (
            id INTEGER PRIMARY KEY,
            address TEXT NOT NULL,
            range_set INTEGER NOT NULL,
            container_id TEXT NOT NULL,
            ifname TEXT NOT NULL,
            netns TEXT,
            created_at INTEGER NOT NULL,
            ended_at INTEGER NOT NULL,
            reason TEXT NOT NULL,
            host_interface TEXT,
            host_ifindex INTEGER,
            container_mac TEXT,
            boot_id TEXT,
            state TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS history_address ON history (address, ended_at);
        CREATE TABLE IF NOT EXISTS quarantine (
            address TEXT PRIMARY KEY NOT NULL,
            released_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS last_reserved (
            range_set INTEGER PRIMARY KEY,
            address TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS meta (
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS audit (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        """

    /// The 16-byte magic at the start of every SQLite 3 file.
    static let sqliteMagic = Array("SQLite format 3\0".utf8)

    /// What the 100-byte header of a database file says, read before SQLite opens it.
    struct FileHeader {
        /// Why the file looks wrong, so `quick_check` should decide; nil when it looks fine.
        var suspicion: String?
        /// Bytes 18 and 19 are 2: the file is in WAL mode, and SQLite opens it
        /// in that mode by itself, so `PRAGMA journal_mode = WAL` would only
        /// cost a compiled statement.
        var isWriteAheadLogged = false
    }

    /// Cheap checks on the raw file before SQLite parses it: non-empty files must
    /// start with the SQLite magic, and, when no WAL could hold newer pages, must
    /// be at least as long as their header says. Reports a reason the file looks
    /// wrong (so `quick_check` should decide) and whether it is in WAL mode.
    /// Throws `.corrupt` for files that cannot be a SQLite database at all.
    static func inspectHeader(_ path: String) throws(StoreError) -> FileHeader {
        guard let size = try Posix.fileSize(path), size > 0 else { return FileHeader() }
        let header = try Posix.readPrefix(path, count: 100)
        guard header.count >= 16, Array(header[0..<16]) == sqliteMagic else {
            throw .corrupt(path: path, detail: "not a SQLite database (bad magic header, \(size) bytes)")
        }
        guard header.count == 100 else {
            throw .corrupt(path: path, detail: "truncated SQLite header (\(size) bytes)")
        }
        func be32(_ at: Int) -> UInt32 { header[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        var result = FileHeader(isWriteAheadLogged: header[18] == 2 && header[19] == 2)
        var pageSize = Int64(UInt16(header[16]) << 8 | UInt16(header[17]))
        if pageSize == 1 { pageSize = 65536 }
        let pageCount = Int64(be32(28))
        let sizeValid = pageCount > 0 && be32(24) == be32(92)
        if sizeValid, size < pageSize * pageCount {
            // After a crash mid-checkpoint the WAL still holds the missing pages
            // and SQLite's recovery completes the file; only then is a short
            // file suspicious rather than damaged.
            let walSize = try Posix.fileSize(path + "-wal") ?? 0
            result.suspicion = "file is \(size) bytes but its header describes \(pageCount) pages of \(pageSize) bytes"
                + (walSize > 0 ? " (a \(walSize)-byte WAL is present)" : "")
        }
        return result
    }

    /// Runs `PRAGMA quick_check` and throws `.corrupt` unless it answers "ok".
    static func quickCheck(_ connection: SQLiteConnection, reason: String) throws(StoreError) {
        var problems: [String] = []
        do {
            try connection.query("PRAGMA quick_check(5)") { stmt in
                if let line = stmt.text(0), line != "ok" { problems.append(line) }
            }
        } catch {
            if case .corrupt(_, let detail) = error { problems.append(detail) } else { throw error }
        }
        guard problems.isEmpty else {
            throw .corrupt(path: connection.path, detail: "\(reason); quick_check: \(problems.joined(separator: "; "))")
        }
    }

    /// Decides whether an opened file is a new (never initialised) database, one
    /// of ours, or something to refuse. "New" means what SQLite sees after WAL
    /// recovery is empty: no application id, no user version, no schema objects,
    /// which covers a 0-byte file left by a crash before the schema was created.
    /// Anything else that is not ours is `.corrupt`, never reinitialised.
    static func classify(_ connection: SQLiteConnection, suspicion: String?) throws(StoreError) -> Bool {
        do {
            return try classifyUnchecked(connection, suspicion: suspicion)
        } catch {
            // Say why the file was suspicious, not only where SQLite tripped.
            if case .corrupt(let path, let detail) = error, let suspicion, !detail.hasPrefix(suspicion) {
                throw .corrupt(path: path, detail: "\(suspicion); \(detail)")
            }
            throw error
        }
    }

    private static func classifyUnchecked(_ connection: SQLiteConnection, suspicion: String?) throws(StoreError) -> Bool {
        let appID = try connection.scalarInt("PRAGMA application_id") ?? 0
        let version = try connection.scalarInt("PRAGMA user_version") ?? 0
        if appID == 0, version == 0 {
            let objects = try connection.scalarInt("SELECT count(*) FROM sqlite_schema") ?? 0
            if objects == 0 {
                if let suspicion { try quickCheck(connection, reason: suspicion) }
                return true
            }
        }
        guard appID == applicationID else {
            throw .corrupt(path: connection.path, detail: String(
                "not a Holdfast lease store (application_id 0x\(String(appID, radix: 16)), expected 0x\(String(applicationID, radix: 16)))"))
        }
        guard version >= 1, version <= schemaVersion else {
            throw .corrupt(path: connection.path, detail: "unsupported schema version \(version) (this build reads \(schemaVersion))")
        }
        if let suspicion { try quickCheck(connection, reason: suspicion) }
        return false
    }

    /// Triggers counting every change to the leases table, by anyone: the plugin,
    /// `ipamctl`, or an operator with the `sqlite3` shell. The count (meta
    /// `lease_epoch`) is part of the stamp every plugin write leaves in the
    /// network's proof file, so any edit, even one that keeps the number of
    /// leases (an address changed in place, one row deleted and another
    /// inserted), tells the next ADD that the store moved.
    static let leaseTriggersSQL = """
        INSERT OR IGNORE INTO meta (key, value) VALUES ('lease_epoch', '0');
        CREATE TRIGGER IF NOT EXISTS leases_epoch_insert AFTER INSERT ON leases
            BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'lease_epoch'; END;
        CREATE TRIGGER IF NOT EXISTS leases_epoch_update AFTER UPDATE ON leases
            BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'lease_epoch'; END;
        CREATE TRIGGER IF NOT EXISTS leases_epoch_delete AFTER DELETE ON leases
            BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'lease_epoch'; END;
        """

    /// The names `leaseTriggersSQL` creates.
    static let leaseTriggers: Set<String> = ["leases_epoch_insert", "leases_epoch_update", "leases_epoch_delete"]

    /// Adds the lease triggers to a store created before they existed, or that
    /// lost one (an operator's DROP TRIGGER). Rows may have changed while a
    /// trigger was missing, so the same transaction moves the epoch on: every
    /// stamp taken before is stale, and the next ADD compares the store with
    /// the kernel. (The stamp used to carry a `count(*)` of the leases for this
    /// case, which read every page of the table on every ADD and DEL.) Asks for
    /// the names exactly: a count of LIKE matches would take a foreign trigger
    /// named like ours for one of them.
    static func ensureLeaseTriggers(_ connection: SQLiteConnection) throws(StoreError) {
        var missing = leaseTriggers
        try connection.query("SELECT name FROM sqlite_master WHERE type = 'trigger'") { stmt in
            if let name = stmt.text(0) { missing.remove(name) }
        }
        guard !missing.isEmpty else { return }
        try connection.exec("BEGIN IMMEDIATE")
        do {
            try connection.exec(leaseTriggersSQL)
            try connection.exec("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'lease_epoch'")
            try connection.exec("COMMIT")
        } catch {
            try? connection.exec("ROLLBACK")
            throw error
        }
    }

    /// Creates the schema on a new database inside one IMMEDIATE transaction, so
    /// two processes racing to initialise the same new file cannot both do it.
    static func createSchema(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.exec("BEGIN IMMEDIATE")
        do {
            let appID = try connection.scalarInt("PRAGMA application_id") ?? 0
            if appID == 0 {
                try connection.exec(schemaSQL)
                try connection.exec("PRAGMA application_id = \(applicationID)")
                try connection.exec("PRAGMA user_version = \(schemaVersion)")
                try connection.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '0')")
            }
            try connection.exec(leaseTriggersSQL)
            try connection.exec("COMMIT")
        } catch {
            try? connection.exec("ROLLBACK")
            throw error
        }
    }
}
