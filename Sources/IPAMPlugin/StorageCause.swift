#if canImport(Glibc)
import Glibc
#endif

/// The cause of a failed storage call in words an operator acts on at once
/// ("disk full", "read-only file system"), for the `msg` of CNI error 100.
/// Runtimes show `msg`; a bare "lease store error" sent people to the logs.
public struct StorageCause: CustomStringConvertible, Sendable, Equatable {
    public let errno: Int32

    public init(errno: Int32) { self.errno = errno }

    public var description: String {
        switch errno {
        case ENOSPC: return "disk full (ENOSPC)"
        case EDQUOT: return "disk quota exceeded (EDQUOT)"
        case EROFS: return "read-only file system (EROFS)"
        case EIO: return "I/O error (EIO)"
        case EACCES, EPERM: return "permission denied (\(errno == EACCES ? "EACCES" : "EPERM"))"
        case ENOENT: return "no such file or directory (ENOENT)"
        default: return String(cString: strerror(errno)) + " (errno \(errno))"
        }
    }
}
