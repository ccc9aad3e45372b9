#include "CSQLiteVFS.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

const char *const holdfast_sqlite3_vfs_name = "holdfast-unix";

static sqlite3_vfs *base_vfs;
static sqlite3_vfs holdfast_vfs;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_rc = SQLITE_ERROR;

/* A WAL with content was written, and therefore synced, by an earlier writer
 * that either created it (and synced the directory on that first sync) or
 * found it with content itself: its directory entry is durable. An empty or
 * missing WAL (a new store, or one just truncated by a checkpoint) is opened as
 * SQLite asks, with O_CREAT, and its first sync covers the directory too. */
static int holdfast_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs;
    if ((flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) && name) {
        struct stat st;
        if (stat(name, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
            int rc = base_vfs->xOpen(base_vfs, name, file, flags & ~SQLITE_OPEN_CREATE, out_flags);
            if (rc == SQLITE_OK) return rc;
        }
    }
    return base_vfs->xOpen(base_vfs, name, file, flags, out_flags);
}

static void register_vfs(void) {
    base_vfs = sqlite3_vfs_find("unix");
    if (!base_vfs) return;
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
