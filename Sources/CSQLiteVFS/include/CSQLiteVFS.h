#ifndef HOLDFAST_CSQLITEVFS_H
#define HOLDFAST_CSQLITEVFS_H

/// Registers (once, thread-safely) the "holdfast-unix" VFS: SQLite's "unix" VFS
/// except that a WAL file that already exists is opened without O_CREAT, and
/// one it creates has its directory fsync'd at once. SQLite's unix VFS fsyncs
/// the directory on the first sync of every WAL it opened with O_CREAT, which
/// it always asks for, so every process paid a second fsync per commit for a
/// directory entry that was already durable.
/// Returns an SQLite result code.
int holdfast_sqlite3_register_vfs(void);

/// fdatasyncs the WAL of `db`'s main database (SQLITE_FCNTL_JOURNAL_POINTER,
/// then the file's xSync); SQLITE_OK when no WAL is open. Lets a writer that
/// commits with synchronous=NORMAL make the commit durable after it has
/// released its lock, before it answers.
struct sqlite3;
int holdfast_sqlite3_sync_wal(struct sqlite3 *db);

/// Submits the write-back of `db`'s WAL without waiting for it
/// (sync_file_range), so the fdatasync that follows waits less (WALWriteback.c).
/// 0 when submitted, -1 when this process has no such WAL open.
int holdfast_sqlite3_start_wal_writeback(struct sqlite3 *db);

/// Installs (from holdfast_sqlite3_register_vfs) the descriptor bookkeeping
/// holdfast_sqlite3_start_wal_writeback needs.
struct sqlite3_vfs;
void holdfast_wal_writeback_install(struct sqlite3_vfs *unix_vfs);

/// Installs (from holdfast_sqlite3_register_vfs) an fchown that skips files
/// already owned as asked, so opening the WAL as root does not make the next
/// fdatasync write the inode too (QuietFchown.c).
void holdfast_quiet_fchown_install(struct sqlite3_vfs *unix_vfs);

/// Installs (from holdfast_sqlite3_register_vfs) the -shm keeping of
/// ShmTrust.c: a first connection keeps a WAL index that is provably current
/// instead of resetting it and rebuilding it from the whole WAL.
void holdfast_shm_trust_install(struct sqlite3_vfs *unix_vfs);

/// How many first opens in this process kept the -shm, and how many reset it
/// (tests and benchmarks read these).
unsigned long holdfast_shm_trusted_opens(void);
unsigned long holdfast_shm_reset_opens(void);

/// After every commit on `db`, stores the number of frames in its WAL (the
/// sqlite3_wal_hook count) in `*frames`, which must outlive the connection.
/// Replaces SQLite's autocheckpoint hook, which the store turns off anyway.
void holdfast_sqlite3_track_wal_frames(struct sqlite3 *db, int *frames);

/// The name to pass to sqlite3_open_v2.
extern const char *const holdfast_sqlite3_vfs_name;

#endif
