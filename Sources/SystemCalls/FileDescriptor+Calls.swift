#if canImport(Glibc)
import Glibc
#else
#error("Holdfast targets Linux only")
#endif
import SystemPackage

/// The file-descriptor calls Holdfast needs, each retrying on `EINTR` where
/// that is safe and throwing `SystemCallError` (typed `Errno`).
///
/// Ownership is explicit: `open` returns a descriptor its caller must close
/// (`closeAfter { }` or `closeQuietly()`); nothing here closes a descriptor it
/// was given. errno is captured before any cleanup call, so a failing `close`
/// can never replace the error being reported.
extension FileDescriptor {
    /// `open(2)` with raw `O_*` flags (always add `O_CLOEXEC`), retried on `EINTR`.
    public static func open(_ path: String, flags: Int32, mode: mode_t = 0) throws(SystemCallError) -> FileDescriptor {
        while true {
            let fd = Glibc.open(path, flags, mode)
            if fd >= 0 { return FileDescriptor(rawValue: fd) }
            let e = Errno.captured
            if e != .interrupted { throw SystemCallError("open(\(path))", errno: e) }
        }
    }

    /// Closes, ignoring the result: for cleanup after the real error was captured.
    public func closeQuietly() {
        _ = Glibc.close(rawValue)
    }

    /// Runs `body`, then closes this descriptor whatever happens.
    public func closing<T, E: Error>(_ body: (FileDescriptor) throws(E) -> T) throws(E) -> T {
        defer { closeQuietly() }
        return try body(self)
    }

    /// Writes every byte (looping over short writes), or throws.
    public func writeAllBytes(_ bytes: [UInt8], what: String = "write") throws(SystemCallError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(rawValue, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n; continue }
            // write(2) returning 0 for a non-empty buffer makes no progress: fail, never spin.
            let e = n == 0 ? Errno.ioError : Errno.captured
            if e != .interrupted { throw SystemCallError(what, errno: e) }
        }
    }

    /// One `read(2)` of at most `maxCount` bytes; empty at end of input.
    public func readSome(maxCount: Int, what: String = "read") throws(SystemCallError) -> [UInt8] {
        guard maxCount > 0 else { return [] }
        var failure: Errno?
        // Uninitialised: zero-filling a 64 KiB buffer for every small read was
        // a measurable part of a plugin run (docs/benchmarks.md).
        let bytes = [UInt8](unsafeUninitializedCapacity: maxCount) { buffer, count in
            while true {
                let n = Glibc.read(rawValue, buffer.baseAddress, maxCount)
                if n >= 0 { count = n; return }
                let e = Errno.captured
                if e != .interrupted { failure = e; count = 0; return }
            }
        }
        if let failure { throw SystemCallError(what, errno: failure) }
        return bytes
    }

    /// Reads from `offset` (`pread`, the file position is untouched) until end
    /// of file or `limit` bytes.
    public func readAll(fromOffset offset: Int = 0, limit: Int = 1 << 20,
                        what: String = "pread") throws(SystemCallError) -> [UInt8] {
        var out: [UInt8] = []
        let chunk = min(max(limit, 1), 64 * 1024)
        // Scratch space only: bytes past what pread returned are never read.
        var buffer = [UInt8](unsafeUninitializedCapacity: chunk) { _, count in count = chunk }
        while out.count < limit {
            let want = min(buffer.count, limit - out.count)
            let at = off_t(offset + out.count)
            let n = buffer.withUnsafeMutableBytes { Glibc.pread(rawValue, $0.baseAddress!, want, at) }
            if n < 0 {
                let e = Errno.captured
                if e == .interrupted { continue }
                throw SystemCallError(what, errno: e)
            }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// `fsync(2)`, retried on `EINTR`.
    public func sync(what: String = "fsync") throws(SystemCallError) {
        while Glibc.fsync(rawValue) != 0 {
            let e = Errno.captured
            if e != .interrupted { throw SystemCallError(what, errno: e) }
        }
    }

    /// A non-blocking `flock(2)`: true when taken, false when another holder has
    /// it (`EWOULDBLOCK`); other failures throw.
    public func tryLock(exclusive: Bool = true, what: String = "flock") throws(SystemCallError) -> Bool {
        while true {
            if flock(rawValue, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 { return true }
            let e = Errno.captured
            if e == .interrupted { continue }
            if e == .wouldBlock { return false }
            throw SystemCallError(what, errno: e)
        }
    }
}
