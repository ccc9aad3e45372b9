import CMnl
import Glibc
import SystemCalls
import SystemPackage

/// An open network namespace (a file descriptor on an nsfs inode, such as
/// `/run/netns/NAME` or `/proc/PID/ns/net`).
///
/// A value like swift-system's `FileDescriptor`: copies share the descriptor
/// and closing is explicit (`close()`, or `withOpened(path:)` which closes for
/// you). Namespaces belong to OS threads, so `withEntered` is synchronous and
/// its body must not hop threads (it cannot `await`).
public struct NetworkNamespace: Sendable, Hashable {
    public let fileDescriptor: Int32
    public let path: String

    /// Opens `path` and proves it is a network namespace: fstatfs must report
    /// NSFS_MAGIC and ioctl(NS_GET_NSTYPE) must answer CLONE_NEWNET. A regular
    /// file, a directory, or a mount, pid or user namespace throws
    /// `.notANetworkNamespace`, so a stale or wrong CNI_NETNS is never entered.
    /// The open is non-blocking (`O_NONBLOCK | O_NOCTTY`): the path comes from
    /// the runtime, and a FIFO or a device there would otherwise block the run
    /// in open(2) before any deadline applies; it fails the nsfs check instead.
    public static func open(path: String) throws(NetlinkError) -> NetworkNamespace {
        let operation = "open netns \(path)"
        let descriptor = try opened(path, flags: O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, operation: operation)
        let fd = descriptor.rawValue
        var fs = statfs()
        guard fstatfs(fd, &fs) == 0 else {
            let error = NetlinkError.system(operation)
            descriptor.closeQuietly()
            throw error
        }
        guard UInt(bitPattern: Int(fs.f_type)) == UInt(NSFS_MAGIC),
              cmnl_ns_get_nstype(fd) == CMNL_CLONE_NEWNET else {
            descriptor.closeQuietly()
            throw NetlinkError(operation: operation, kind: .notANetworkNamespace(path: path))
        }
        return NetworkNamespace(fileDescriptor: fd, path: path)
    }

    /// `FileDescriptor.open` (EINTR-safe, errno captured before cleanup) with
    /// its error carried as a `NetlinkError`.
    private static func opened(_ path: String, flags: Int32, operation: String) throws(NetlinkError) -> FileDescriptor {
        do { return try FileDescriptor.open(path, flags: flags) } catch {
            throw NetlinkError.system(operation, errno: error.errno.rawValue)
        }
    }

    /// The calling thread's current network namespace.
    public static func current() throws(NetlinkError) -> NetworkNamespace {
        try open(path: "/proc/thread-self/ns/net")
    }

    /// Opens `path`, runs `body`, closes the descriptor whatever happens.
    public static func withOpened<T>(path: String, _ body: (NetworkNamespace) throws -> T) throws -> T {
        let ns = try open(path: path)
        defer { ns.close() }
        return try body(ns)
    }

    /// Closes the descriptor. Call once, on one copy.
    public func close() { FileDescriptor(rawValue: fileDescriptor).closeQuietly() }

    /// The nsfs inode number: equal inodes mean the same namespace.
    public func inode() throws(NetlinkError) -> UInt64 {
        var st = stat()
        guard fstat(fileDescriptor, &st) == 0 else { throw .system("fstat netns \(path)") }
        return UInt64(st.st_ino)
    }

    /// Runs `body` with the calling thread inside this namespace, then switches back.
    ///
    /// Sockets opened in `body` (e.g. `NetlinkSocket()`) stay bound to this
    /// namespace after it returns. The previous namespace is restored in a
    /// `defer`, also when `body` throws; if restoring fails the process stops
    /// (`fatalError`), because carrying on in the container's namespace would
    /// make every later host operation act on the wrong network.
    ///
    /// Throws `NetlinkError` if the original namespace cannot be saved or this
    /// one cannot be entered (`body` then does not run), else whatever `body` throws.
    public func withEntered<T>(_ body: () throws -> T) throws -> T {
        let saved = try Self.opened("/proc/thread-self/ns/net", flags: O_RDONLY | O_CLOEXEC,
                                    operation: "open /proc/thread-self/ns/net")
        guard cmnl_setns_net(fileDescriptor) == 0 else {
            let error = NetlinkError.system("setns \(path)")
            saved.closeQuietly()
            throw error
        }
        defer {
            if cmnl_setns_net(saved.rawValue) != 0 {
                fatalError("cannot return to the original network namespace after \(path): errno \(errno)")
            }
            saved.closeQuietly()
        }
        return try body()
    }
}
