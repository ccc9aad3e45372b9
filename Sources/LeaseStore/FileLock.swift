#if canImport(Glibc)
import Glibc
#else
#error("Holdfast targets Linux only")
#endif

/// The writers' mutex: an exclusive flock on `<network>/lock`.
///
/// flock belongs to the open file description, so the kernel drops it when the
/// holder's fd closes, including when the holder is SIGKILLed or OOM-killed: a
/// dead plugin can never wedge the network. We poll `LOCK_NB` instead of
/// blocking so the wait has a deadline (CNI error 11 rather than a hung runtime)
/// and so a waiter costs one sleeping process and no growing memory.
enum FileLock {
    /// Runs `body` while holding the exclusive flock on `path`; the fd is closed
    /// (and the lock released) when `body` returns or throws.
    static func withLock<T>(path: String, timeout: Duration, _ body: () throws -> T) throws -> T {
        let fd = try acquire(path: path, timeout: timeout)
        defer { close(fd) }
        return try body()
    }

    /// Opens (creating, 0600) `path` and takes `LOCK_EX`, polling with
    /// exponential backoff (200 µs doubling to 10 ms, with up to 50 % jitter so
    /// waiters that collided once do not keep colliding) until `timeout` has
    /// elapsed. Throws `.lockTimeout(waited:)` at the deadline, `.io` on errors.
    static func acquire(path: String, timeout: Duration) throws(StoreError) -> Int32 {
        let fd = try Posix.open(path, O_CREAT | O_RDWR | O_CLOEXEC, mode: 0o600)
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + timeout
        var backoffNanos: UInt64 = 200_000
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { break }
            let err = errno
            if err == EINTR { continue }
            guard err == EWOULDBLOCK else {
                close(fd)
                throw .io(operation: "flock(\(path))", errno: err)
            }
            let now = clock.now
            guard now < deadline else {
                close(fd)
                throw .lockTimeout(waited: now - start)
            }
            let jitter = UInt64.random(in: 0...(backoffNanos / 2))
            let remaining = deadline - now
            let remainingNanos = UInt64(remaining.components.seconds) * 1_000_000_000
                + UInt64(remaining.components.attoseconds / 1_000_000_000)
            Posix.sleep(nanoseconds: min(backoffNanos + jitter, max(remainingNanos, 1)))
            backoffNanos = min(backoffNanos * 2, 10_000_000)
        }
        return fd
    }
}

/// Thin syscall wrappers that retry on EINTR and throw `StoreError.io`.
enum Posix {
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(StoreError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw .io(operation: "open(\(path))", errno: errno) }
        }
    }

    static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// `mkdir -p` with mode 0700 for directories it creates (the store holds
    /// container ids and netns paths: root-only). Existing directories are kept as they are.
    static func makeDirectories(_ path: String) throws(StoreError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o700) != 0 {
                let err = errno
                var st = stat()
                guard err == EEXIST, stat(prefix, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                    throw .io(operation: "mkdir(\(prefix))", errno: err == EEXIST ? ENOTDIR : err)
                }
            }
            prefix += "/"
        }
    }

    /// Size of the file at `path`, or nil when it does not exist.
    static func fileSize(_ path: String) throws(StoreError) -> Int64? {
        var st = stat()
        if stat(path, &st) == 0 { return Int64(st.st_size) }
        if errno == ENOENT { return nil }
        throw .io(operation: "stat(\(path))", errno: errno)
    }

    /// Reads up to `count` bytes from the start of `path`.
    static func readPrefix(_ path: String, count: Int) throws(StoreError) -> [UInt8] {
        let fd = try open(path, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, count - filled, off_t(filled)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "pread(\(path))", errno: errno)
            }
            if n == 0 { break }
            filled += n
        }
        return Array(buffer[..<filled])
    }

    static func fsync(path: String, directory: Bool = false) throws(StoreError) {
        let fd = try open(path, (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC)
        defer { close(fd) }
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw .io(operation: "fsync(\(path))", errno: errno) }
        }
    }

    /// Copies `source` to a new file `destination` (must not exist) and fsyncs it.
    static func copyFile(_ source: String, to destination: String) throws(StoreError) {
        let input = try open(source, O_RDONLY | O_CLOEXEC)
        defer { close(input) }
        let output = try open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600)
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read(\(source))", errno: errno)
            }
            if n == 0 { break }
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { Glibc.write(output, $0.baseAddress! + written, n - written) }
                if w < 0 {
                    if errno == EINTR { continue }
                    throw .io(operation: "write(\(destination))", errno: errno)
                }
                written += w
            }
        }
        while Glibc.fsync(output) != 0 {
            if errno != EINTR { throw .io(operation: "fsync(\(destination))", errno: errno) }
        }
    }

    static func rename(_ from: String, _ to: String) throws(StoreError) {
        guard Glibc.rename(from, to) == 0 else { throw .io(operation: "rename(\(from), \(to))", errno: errno) }
    }

    static func link(_ from: String, _ to: String) throws(StoreError) {
        guard Glibc.link(from, to) == 0 else { throw .io(operation: "link(\(from), \(to))", errno: errno) }
    }

    /// Removes `path`; a missing file is fine.
    static func unlinkIfPresent(_ path: String) throws(StoreError) {
        guard Glibc.unlink(path) == 0 || errno == ENOENT else { throw .io(operation: "unlink(\(path))", errno: errno) }
    }
}
