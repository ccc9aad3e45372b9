#if canImport(Glibc)
import Glibc
#else
#error("Holdfast targets Linux only")
#endif
import SystemCalls

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
        defer { fd.closeQuietly() }
        return try body()
    }

    /// Opens (creating, 0600) `path` and takes `LOCK_EX`, polling with
    /// exponential backoff (200 µs doubling to 10 ms, with up to 50 % jitter so
    /// waiters that collided once do not keep colliding) until `timeout` has
    /// elapsed. Throws `.lockTimeout(waited:)` at the deadline, `.io` on errors.
    static func acquire(path: String, timeout: Duration) throws(StoreError) -> FileDescriptor {
        let fd = try Posix.open(path, O_CREAT | O_RDWR | O_CLOEXEC, mode: 0o600)
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + timeout
        var backoffNanos: UInt64 = 200_000
        while true {
            do {
                if try fd.tryLock(what: "flock(\(path))") { break }
            } catch {
                fd.closeQuietly()
                throw StoreError(error)
            }
            let now = clock.now
            guard now < deadline else {
                fd.closeQuietly()
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

/// LeaseStore's file calls: the shared `SystemCalls` layer, with its errors
/// mapped onto `StoreError.io` (operation and errno kept).
enum Posix {
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(StoreError) -> FileDescriptor {
        do { return try FileDescriptor.open(path, flags: flags, mode: mode) } catch { throw StoreError(error) }
    }

    static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// `mkdir -p` with mode 0700 for directories it creates (the store holds
    /// container ids and netns paths: root-only). Existing directories are kept as they are.
    static func makeDirectories(_ path: String) throws(StoreError) {
        do { try Directory.create(path, mode: 0o700) } catch { throw StoreError(error) }
    }

    /// Size of the file at `path`, or nil when it does not exist.
    static func fileSize(_ path: String) throws(StoreError) -> Int64? {
        var st = stat()
        if stat(path, &st) == 0 { return Int64(st.st_size) }
        let error = SystemCallError.last("stat(\(path))")
        if error.errno == .noSuchFileOrDirectory { return nil }
        throw StoreError(error)
    }

    /// Reads up to `count` bytes from the start of `path`.
    static func readPrefix(_ path: String, count: Int) throws(StoreError) -> [UInt8] {
        let fd = try open(path, O_RDONLY | O_CLOEXEC)
        defer { fd.closeQuietly() }
        do { return try fd.readAll(limit: count, what: "pread(\(path))") } catch { throw StoreError(error) }
    }

    static func fsync(path: String, directory: Bool = false) throws(StoreError) {
        do {
            if directory { return try Directory.sync(path) }
            let fd = try FileDescriptor.open(path, flags: O_RDONLY | O_CLOEXEC)
            defer { fd.closeQuietly() }
            try fd.sync(what: "fsync(\(path))")
        } catch {
            throw StoreError(error)
        }
    }

    /// Copies `source` to a new file `destination` (must not exist) and fsyncs it.
    static func copyFile(_ source: String, to destination: String) throws(StoreError) {
        let input = try open(source, O_RDONLY | O_CLOEXEC)
        defer { input.closeQuietly() }
        let output = try open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600)
        defer { output.closeQuietly() }
        do {
            while true {
                let chunk = try input.readSome(maxCount: 1 << 16, what: "read(\(source))")
                if chunk.isEmpty { break }
                try output.writeAllBytes(chunk, what: "write(\(destination))")
            }
            try output.sync(what: "fsync(\(destination))")
        } catch {
            throw StoreError(error)
        }
    }

    static func rename(_ from: String, _ to: String) throws(StoreError) {
        guard Glibc.rename(from, to) == 0 else { throw StoreError(.last("rename(\(from), \(to))")) }
    }

    static func link(_ from: String, _ to: String) throws(StoreError) {
        guard Glibc.link(from, to) == 0 else { throw StoreError(.last("link(\(from), \(to))")) }
    }

    /// Removes `path`; a missing file is fine.
    static func unlinkIfPresent(_ path: String) throws(StoreError) {
        guard Glibc.unlink(path) == 0 else {
            let error = SystemCallError.last("unlink(\(path))")
            if error.errno == .noSuchFileOrDirectory { return }
            throw StoreError(error)
        }
    }
}

extension StoreError {
    /// A failed system call as `.io`, keeping its operation and errno.
    init(_ error: SystemCallError) {
        self = .io(operation: error.operation, errno: error.errno.rawValue)
    }
}
