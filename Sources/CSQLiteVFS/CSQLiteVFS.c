#include "CSQLiteVFS.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

const char *const holdfast_sqlite3_vfs_name = "holdfast-unix";

static sqlite3_vfs *base_vfs;
static sqlite3_vfs holdfast_vfs;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_rc = SQLITE_ERROR;

/* fsyncs the directory holding `path` (best effort: the caller has already
 * created the file, and SQLite's own first sync would cover a writer). */
static void sync_parent_directory(const char *path) {
    char dir[4096];
    size_t n = strlen(path);
    if (n >= sizeof dir) return;
    memcpy(dir, path, n + 1);
    char *slash = strrchr(dir, '/');
    if (!slash) return;
    if (slash == dir) slash[1] = 0; else *slash = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)fsync(fd);
    (void)close(fd);
}

/* A WAL that exists is opened without O_CREAT, so SQLite does not fsync the
 * directory on this process's first sync: its directory entry is durable,
 * because every WAL this VFS creates has its directory fsync'd right after
 * creation (below), by readers too, which never sync anything themselves. With
 * SQLITE_FCNTL_PERSIST_WAL the WAL is created once per store, and a checkpoint
 * truncates it without removing it. */
static int holdfast_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs;
    if ((flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) && name) {
        struct stat st;
        if (stat(name, &st) == 0 && S_ISREG(st.st_mode)) {
            int rc = base_vfs->xOpen(base_vfs, name, file, flags & ~SQLITE_OPEN_CREATE, out_flags);
            if (rc == SQLITE_OK) return rc;
        }
        int rc = base_vfs->xOpen(base_vfs, name, file, flags, out_flags);
        if (rc == SQLITE_OK) sync_parent_directory(name);
        return rc;
    }
    return base_vfs->xOpen(base_vfs, name, file, flags, out_flags);
}

static void register_vfs(void) {
    /* Before anything initialises SQLite (sqlite3_vfs_find does): memory
     * statistics off. With them on, every sqlite3_malloc and free takes a
     * global mutex and updates counters nobody here reads: about a tenth of a
     * plugin run's instructions went to malloc bookkeeping and mutexes. A
     * process that initialised SQLite first keeps its own setting (MISUSE). */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    /* No bulk page-cache allocation: by default each connection's first page
     * fetch allocates 20 page slots at once (SQLITE_DEFAULT_PCACHE_INITSZ) and
     * writes a header into every slot, touching about 22 fresh pages of heap.
     * A plugin run reads 8-10 pages; allocating slots as they are needed saves
     * about 13 page faults per run (each ~2 us on these VMs, plus the exit's
     * freeing of them; docs/benchmarks.md, sixth pass). */
    (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)0, 0, 0);
    base_vfs = sqlite3_vfs_find("unix");
    if (!base_vfs) return;
    holdfast_shm_trust_install(base_vfs);
    holdfast_wal_writeback_install(base_vfs);
    holdfast_quiet_fchown_install(base_vfs);
    holdfast_vfs = *base_vfs;
    holdfast_vfs.pNext = 0;
    holdfast_vfs.zName = holdfast_sqlite3_vfs_name;
    holdfast_vfs.xOpen = holdfast_open;
    register_rc = sqlite3_vfs_register(&holdfast_vfs, 0);
}

int holdfast_sqlite3_register_vfs(void) {
    pthread_once(&register_once, register_vfs);
    return register_rc;
}

int holdfast_sqlite3_sync_wal(sqlite3 *db) {
    sqlite3_file *wal = 0;
    int rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
    if (rc != SQLITE_OK) return rc;
    if (!wal || !wal->pMethods) return SQLITE_OK;
    return wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
}

static int record_wal_frames(void *out, sqlite3 *db, const char *schema, int frames) {
    (void)db;
    if (strcmp(schema, "main") == 0) *(int *)out = frames;
    return SQLITE_OK;
}

void holdfast_sqlite3_track_wal_frames(sqlite3 *db, int *frames) {
    (void)sqlite3_wal_hook(db, record_wal_frames, frames);
}
