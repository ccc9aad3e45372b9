#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Replacing a file durably: write a temporary file beside it, fsync it,
/// rename it over the target, fsync the directory.
///
/// After `write` returns, the new content survives a power cut; a crash
/// before that leaves the old file or the new one, never a torn one. Readers
/// (a metrics textfile collector, the watchdog's fence reader) never see a
/// partial file. Used by the watchdog's fence and `ipamctl metrics --textfile`.
public enum AtomicFile {
    /// Replaces `path` with `bytes`. The temporary file is `<path>.tmp.<pid>`
    /// and is removed on failure.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(SystemCallError) {
        let dir = Directory.parent(of: path)
        let temp = "\(path).tmp.\(getpid())"
        let fd = try FileDescriptor.open(temp, flags: O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: mode)
        do throws(SystemCallError) {
            // `mode` exactly, not filtered by the umask: a metrics collector or
            // fence reader may run as another user.
            guard fchmod(fd.rawValue, mode) == 0 else { throw SystemCallError.last("fchmod(\(temp))") }
            try fd.writeAllBytes(bytes, what: "write(\(temp))")
            try fd.sync(what: "fsync(\(temp))")
        } catch {
            fd.closeQuietly()
            _ = unlink(temp)
            throw error
        }
        fd.closeQuietly()
        guard rename(temp, path) == 0 else {
            let error = SystemCallError.last("rename(\(temp), \(path))")
            _ = unlink(temp)
            throw error
        }
        try Directory.sync(dir)
    }

    /// Removes `path` and fsyncs its directory so the removal is durable too.
    /// Returns false when there was nothing to remove.
    @discardableResult
    public static func remove(_ path: String) throws(SystemCallError) -> Bool {
        guard unlink(path) == 0 else {
            let error = SystemCallError.last("unlink(\(path))")
            if error.errno == .noSuchFileOrDirectory { return false }
            throw error
        }
        try Directory.sync(Directory.parent(of: path))
        return true
    }
}
