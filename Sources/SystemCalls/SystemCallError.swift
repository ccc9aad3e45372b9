#if canImport(Glibc)
import Glibc
#endif
@_exported import SystemPackage

/// A failed system call: which operation (with its path or subject) and the
/// typed `Errno` it returned.
///
/// Why one error type: every wrapper in this target throws it, so callers map
/// it once onto their own typed errors (`StoreError.io`, `SystemError`,
/// `CNIError`) and can match the errno (`EEXIST`, `ENOENT`) without ever
/// reading the global `errno` after another call may have changed it.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call and its subject, e.g. `open(/run/x)`.
    public var operation: String
    public var errno: Errno

    public init(_ operation: String, errno: Errno) {
        self.operation = operation
        self.errno = errno
    }

    /// The error of the call that just failed: reads the global `errno` at once.
    public static func last(_ operation: String) -> SystemCallError {
        SystemCallError(operation, errno: .captured)
    }

    public var description: String { "\(operation): \(errno) (errno \(errno.rawValue))" }
}

extension Errno {
    /// The calling thread's `errno`, read now: capture it right after the call
    /// that failed, before any cleanup call can overwrite it.
    public static var captured: Errno { Errno(rawValue: Glibc.errno) }
}
