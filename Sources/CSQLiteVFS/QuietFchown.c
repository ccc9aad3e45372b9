/* An fchown that leaves a file alone when it already has the owner.
 *
 * Running as root, SQLite's unix VFS gives every WAL and -shm it opens the
 * owner of the database file (robustFchown), even when the file has that owner
 * already. A chown, even one that changes nothing, marks the inode dirty for
 * fdatasync (ext4_setattr, mark_inode_dirty), so each plugin process's one
 * fdatasync of the WAL also wrote the inode synchronously: one more block
 * request per commit, measured with `perf stat -e block:block_rq_issue` (220
 * requests for 200 overwrite-and-fdatasync rounds without it, 408 with it).
 * The override goes through SQLite's own system-call table (xSetSystemCall). */
#include "CSQLiteVFS.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

static int (*real_fchown)(int, uid_t, gid_t);

static int quiet_fchown(int fd, uid_t uid, gid_t gid) {
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_uid == uid && st.st_gid == gid) return 0;
    return real_fchown(fd, uid, gid);
}

void holdfast_quiet_fchown_install(sqlite3_vfs *unix_vfs) {
    real_fchown = (int (*)(int, uid_t, gid_t))unix_vfs->xGetSystemCall(unix_vfs, "fchown");
    if (!real_fchown) return;
    (void)unix_vfs->xSetSystemCall(unix_vfs, "fchown", (sqlite3_syscall_ptr)quiet_fchown);
}
