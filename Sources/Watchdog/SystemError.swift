#if canImport(Glibc)
import Glibc
#else
#error("holdfast-watchdog is Linux only: it needs cgroups, signalfd, eventfd and inotify")
#endif
import SystemCalls

/// A failed system call, with the operation and the errno, so a caller can
/// tell `ENOENT` (a cgroup that does not exist) from `EACCES` (not root)
/// without parsing a message.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    /// What was attempted, e.g. `open /sys/fs/cgroup/memory/x/cgroup.procs`.
    public var operation: String
    /// The errno the kernel returned.
    public var errno: Int32

    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    /// Captures the calling thread's current errno.
    static func last(_ operation: String) -> SystemError {
        SystemError(operation, errno: Glibc.errno)
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

extension SystemError {
    /// A failure from the shared `SystemCalls` layer, errno kept.
    init(_ error: SystemCallError) {
        self.init(error.operation, errno: error.errno.rawValue)
    }
}
