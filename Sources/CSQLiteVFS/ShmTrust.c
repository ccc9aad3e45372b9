/* Keeping the WAL index (-shm) between plugin processes when it is provably
 * current.
 *
 * SQLite's unix VFS resets the -shm file whenever a connection opens it and no
 * other connection has it open (it truncates it to 3 bytes), and the first
 * reader then rebuilds the index from the whole WAL: read every frame,
 * checksum it. That is right for a long-lived process after a crash, but every
 * CNI plugin run is a new process, so every ADD and DEL paid for it: up to 64
 * preads and 0.3 M instructions of checksums, eight page extensions of the
 * -shm file, and the truncation itself. It also forgot what was checkpointed,
 * so the WAL could never restart in place and every commit appended to it.
 *
 * The reset is skipped only when all of these hold; otherwise SQLite resets
 * and recovers as it always does:
 * - A marker beside the -shm says it was (re)initialised in this boot (the
 *   kernel's boot id) and names its inode. After a power loss or an OS crash
 *   the -shm on disk can be any mix of old and new pages, so an index from an
 *   earlier boot is never trusted; within one boot every process sees the same
 *   page cache, which is the situation SQLite's multi-process WAL protocol is
 *   built for (a connection killed mid-write is handled like one that dies
 *   while others keep the index open).
 * - Both copies of the wal-index header agree, are initialised, and carry a
 *   valid checksum.
 * - The WAL file agrees with the index: same page size and salts in its
 *   header; the frame the index calls the last commit has those salts and
 *   exactly the cumulative checksum the index recorded (so the whole indexed
 *   prefix is the one that was indexed); and the frame after it does not carry
 *   the current salts (a writer killed after writing frames but before
 *   publishing them, or a WAL copied in from elsewhere, means recovery must
 *   decide).
 *
 * The hook is SQLite's own system-call override (xSetSystemCall) of
 * ftruncate, applied only to the one call SQLite makes with length 3, on a
 * live store's leases.db-shm. */
#include "CSQLiteVFS.h"

#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* SQLite's wal-index layout (wal.c): two 48-byte header copies, then the
 * checkpoint info; WAL file header 32 bytes, frame header 24 bytes. */
enum { INDEX_HEADER = 48, INDEX_PREFIX = 136, WAL_HEADER = 32, FRAME_HEADER = 24 };
static const uint32_t WAL_VERSION = 3007000;

static int (*real_ftruncate)(int, off_t);
static unsigned long trusted_opens;
static unsigned long reset_opens;

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t native32(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The wal-index header's own checksum: SQLite's walChecksumBytes in native
 * byte order over the first 40 bytes. */
static int index_header_checksum_ok(const unsigned char *h) {
    uint32_t s1 = 0, s2 = 0;
    for (int i = 0; i < 40; i += 8) {
        s1 += native32(h + i) + s2;
        s2 += native32(h + i + 4) + s1;
    }
    return s1 == native32(h + 40) && s2 == native32(h + 44);
}

static int read_boot_id(char *out, size_t size) {
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, out, size - 1);
    (void)close(fd);
    if (n <= 0) return -1;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ')) n--;
    out[n] = 0;
    return (int)n;
}

/* "<boot id> <inode of the -shm>\n": what the marker must say for this file. */
static int expected_marker(int shm_fd, char *out, size_t size) {
    char boot[64];
    struct stat st;
    if (read_boot_id(boot, sizeof boot) <= 0 || fstat(shm_fd, &st) != 0) return -1;
    int n = snprintf(out, size, "%s %llu\n", boot, (unsigned long long)st.st_ino);
    return n > 0 && (size_t)n < size ? n : -1;
}

static void marker_path(const char *shm_path, char *out, size_t size) {
    (void)snprintf(out, size, "%s.boot", shm_path);
}

static int marker_matches(int shm_fd, const char *shm_path) {
    char want[128], have[128], path[PATH_MAX + 8];
    int n = expected_marker(shm_fd, want, sizeof want);
    if (n < 0) return 0;
    marker_path(shm_path, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return 0;
    ssize_t got = read(fd, have, sizeof have);
    (void)close(fd);
    return got == n && memcmp(have, want, (size_t)n) == 0;
}

/* Best effort: without a marker the next process simply resets again. */
static void write_marker(int shm_fd, const char *shm_path) {
    char want[128], path[PATH_MAX + 8];
    int n = expected_marker(shm_fd, want, sizeof want);
    if (n < 0) return;
    marker_path(shm_path, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return;
    (void)!write(fd, want, (size_t)n);
    (void)close(fd);
}

static int wal_agrees(const char *shm_path, const unsigned char *h) {
    char wal_path[PATH_MAX];
    size_t len = strlen(shm_path);
    if (len >= sizeof wal_path) return 0;
    memcpy(wal_path, shm_path, len + 1);
    memcpy(wal_path + len - 4, "-wal", 4);

    uint16_t sz;
    memcpy(&sz, h + 14, 2);
    uint32_t page_size = (uint32_t)(sz & 0xfe00) + ((uint32_t)(sz & 0x0001) << 16);
    uint32_t max_frame = native32(h + 16);
    const unsigned char *salt = h + 32;
    if (page_size < 512) return 0;

    int fd = open(wal_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return 0;
    int ok = 0;
    unsigned char w[WAL_HEADER], f[FRAME_HEADER];
    off_t frame_size = FRAME_HEADER + (off_t)page_size;
    if (pread(fd, w, sizeof w, 0) != (ssize_t)sizeof w) goto done;
    if ((be32(w) & 0xfffffffe) != 0x377f0682 || be32(w + 4) != WAL_VERSION || be32(w + 8) != page_size) goto done;
    if (memcmp(w + 16, salt, 8) != 0) goto done;
    if (max_frame > 0) {
        off_t last = WAL_HEADER + (off_t)(max_frame - 1) * frame_size;
        if (pread(fd, f, sizeof f, last) != (ssize_t)sizeof f) goto done;
        if (be32(f + 4) == 0 || memcmp(f + 8, salt, 8) != 0) goto done;
        if (be32(f + 16) != native32(h + 24) || be32(f + 20) != native32(h + 28)) goto done;
    }
    off_t next = WAL_HEADER + (off_t)max_frame * frame_size;
    ssize_t got = pread(fd, f, sizeof f, next);
    if (got == (ssize_t)sizeof f && memcmp(f + 8, salt, 8) == 0) goto done;
    ok = 1;
done:
    (void)close(fd);
    return ok;
}

static int index_is_current(int shm_fd, const char *shm_path) {
    unsigned char h[INDEX_PREFIX];
    if (pread(shm_fd, h, sizeof h, 0) != (ssize_t)sizeof h) return 0;
    if (memcmp(h, h + INDEX_HEADER, INDEX_HEADER) != 0) return 0;
    if (native32(h) != WAL_VERSION || h[12] != 1 || !index_header_checksum_ok(h)) return 0;
    if (native32(h + 2 * INDEX_HEADER) > native32(h + 16)) return 0; /* nBackfill <= mxFrame */
    return marker_matches(shm_fd, shm_path) && wal_agrees(shm_path, h);
}

static int holdfast_ftruncate(int fd, off_t length) {
    char link[64], path[PATH_MAX];
    if (length != 3) return real_ftruncate(fd, length);
    (void)snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 5) return real_ftruncate(fd, length);
    path[n] = 0;
    /* Only a live store's index (<dataDir>/<network>/leases.db-shm): backups,
     * restore scratch files and foreign databases keep SQLite's reset, and no
     * marker is left beside them. */
    static const char live[] = "/leases.db-shm";
    if ((size_t)n < sizeof live - 1 || strcmp(path + n - (sizeof live - 1), live) != 0) return real_ftruncate(fd, length);
    if (index_is_current(fd, path)) {
        __atomic_add_fetch(&trusted_opens, 1, __ATOMIC_RELAXED);
        return 0;
    }
    int rc = real_ftruncate(fd, length);
    if (rc == 0) {
        /* From here on this boot's processes rebuild and maintain the index. */
        write_marker(fd, path);
        __atomic_add_fetch(&reset_opens, 1, __ATOMIC_RELAXED);
    }
    return rc;
}

void holdfast_shm_trust_install(sqlite3_vfs *unix_vfs) {
    real_ftruncate = (int (*)(int, off_t))unix_vfs->xGetSystemCall(unix_vfs, "ftruncate");
    if (!real_ftruncate) return;
    (void)unix_vfs->xSetSystemCall(unix_vfs, "ftruncate", (sqlite3_syscall_ptr)holdfast_ftruncate);
}

unsigned long holdfast_shm_trusted_opens(void) { return __atomic_load_n(&trusted_opens, __ATOMIC_RELAXED); }
unsigned long holdfast_shm_reset_opens(void) { return __atomic_load_n(&reset_opens, __ATOMIC_RELAXED); }
