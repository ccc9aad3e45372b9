#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import SystemCalls

/// The syscalls the watchdog needs: each returns or throws a `SystemError`
/// carrying errno, and retries on `EINTR` where that is safe. File and process
/// calls go through the shared `SystemCalls` layer; only what is the
/// watchdog's alone (eventfd, signalfd, reboot, signal masks) is wrapped here.
///
/// `eventfd(2)` and `signalfd(2)` are not exported by Swift's Glibc module, so
/// they are resolved from libc with `dlsym` and called through correctly typed
/// `@convention(c)` pointers (plain C ABI, no variadic `syscall(2)` tricks).
enum Sys {
    private typealias EventfdFn = @convention(c) (UInt32, Int32) -> Int32
    private typealias SignalfdFn = @convention(c) (Int32, UnsafePointer<sigset_t>?, Int32) -> Int32

    /// `O_CLOEXEC`, which is also `EFD_CLOEXEC`, `SFD_CLOEXEC` and `IN_CLOEXEC` on Linux.
    static let cloexec: Int32 = 0o2000000
    /// `O_NONBLOCK`, also `EFD_NONBLOCK`, `SFD_NONBLOCK`, `IN_NONBLOCK`.
    static let nonblock: Int32 = 0o4000

    private static func resolve<T>(_ name: String, as: T.Type) throws(SystemError) -> T {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {
            throw SystemError("dlsym \(name)", errno: ENOSYS)
        }
        return unsafeBitCast(symbol, to: T.self)
    }

    /// reboot(2) with a `LINUX_REBOOT_CMD_*` value. Returns only on failure.
    static func reboot(_ command: Int32) -> Int32 {
        typealias RebootFn = @convention(c) (Int32) -> Int32
        guard let fn = try? resolve("reboot", as: RebootFn.self) else { return -1 }
        return fn(command)
    }

    /// A non-blocking, close-on-exec eventfd (used for cgroup v1 OOM notification).
    static func eventfd() throws(SystemError) -> Int32 {
        let fn = try resolve("eventfd", as: EventfdFn.self)
        let fd = fn(0, cloexec | nonblock)
        guard fd >= 0 else { throw .last("eventfd") }
        return fd
    }

    /// A non-blocking, close-on-exec signalfd for `signals`, which must already be blocked.
    static func signalfd(_ signals: [Int32]) throws(SystemError) -> Int32 {
        let fn = try resolve("signalfd", as: SignalfdFn.self)
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        let fd = fn(-1, &set, cloexec | nonblock)
        guard fd >= 0 else { throw .last("signalfd") }
        return fd
    }

    /// Blocks `signals` in the calling thread (and in threads it creates later),
    /// so they are only ever read from a signalfd.
    static func blockSignals(_ signals: [Int32]) throws(SystemError) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        let rc = pthread_sigmask(SIG_BLOCK, &set, nil)
        guard rc == 0 else { throw SystemError("pthread_sigmask", errno: rc) }
    }

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SystemError) -> Int32 {
        do { return try FileDescriptor.open(path, flags: flags | cloexec, mode: mode).rawValue } catch { throw SystemError(error) }
    }

    static func close(_ fd: Int32) {
        FileDescriptor(rawValue: fd).closeQuietly()
    }

    /// Reads a whole (small) file such as a cgroup control file.
    static func readFile(_ path: String) throws(SystemError) -> String {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var data = [UInt8]()
        do {
            while true {
                let chunk = try FileDescriptor(rawValue: fd).readSome(maxCount: 4096, what: "read \(path)")
                if chunk.isEmpty { break }
                data += chunk
            }
        } catch {
            throw SystemError(error)
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes `text` to an existing file in one `write(2)`, as cgroup control
    /// files require (a short or split write would be parsed as two values).
    static func writeControl(_ path: String, _ text: String) throws(SystemError) {
        let fd = try open(path, O_WRONLY)
        defer { close(fd) }
        try writeAll(fd, Array(text.utf8), what: path)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws(SystemError) {
        do { try FileDescriptor(rawValue: fd).writeAllBytes(bytes, what: "write \(what)") } catch { throw SystemError(error) }
    }

    static func fsync(_ fd: Int32, what: String) throws(SystemError) {
        do { try FileDescriptor(rawValue: fd).sync(what: "fsync \(what)") } catch { throw SystemError(error) }
    }

    /// Replaces `path` durably (`AtomicFile`: temporary file, fsync, rename,
    /// directory fsync), creating its directory first. After return the content
    /// survives a power cut; a crash before return leaves either the old file or
    /// the new one, never a torn one.
    static func writeFileDurably(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(SystemError) {
        try makeDirectories(directoryName(path))
        do { try AtomicFile.write(bytes, to: path, mode: mode) } catch { throw SystemError(error) }
    }

    /// Removes `path` and fsyncs its directory so the removal is durable too.
    /// Returns false when there was nothing to remove.
    @discardableResult
    static func removeFileDurably(_ path: String) throws(SystemError) -> Bool {
        do { return try AtomicFile.remove(path) } catch { throw SystemError(error) }
    }

    static func fsyncDirectory(_ dir: String) throws(SystemError) {
        do { try Directory.sync(dir) } catch { throw SystemError(error) }
    }

    /// `mkdir -p`, tolerating directories that already exist.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        if path.isEmpty || path == "/" || isDirectory(path) { return }
        do { try Directory.create(path, mode: mode) } catch { throw SystemError(error) }
    }

    static func directoryName(_ path: String) -> String {
        Directory.parent(of: path)
    }

    /// `text` without leading and trailing whitespace and newlines.
    static func trimmed(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = text.firstIndex(where: { !isSpace($0) }),
              let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(text[first...last])
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        Directory.isDirectory(path)
    }

    /// CLOCK_MONOTONIC in seconds: the clock the decision latency is measured on
    /// (tests compare it with the agent's own `time.clock_gettime(CLOCK_MONOTONIC)`).
    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Resolves `command` like `execvp` would, so a missing agent is reported
    /// before anything is started.
    static func resolveExecutable(_ command: String, path: String?) -> String? {
        if command.contains("/") {
            return access(command, X_OK) == 0 ? command : nil
        }
        for dir in (path ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(command)"
            if access(candidate, X_OK) == 0 && !isDirectory(candidate) { return candidate }
        }
        return nil
    }

    /// `posix_spawn` with a clean signal mask and default dispositions: the
    /// watchdog blocks TERM/INT/HUP/CHLD for its signalfd, and a blocked mask is
    /// inherited across exec, which would make the agent deaf to SIGTERM.
    static func spawn(_ argv: [String]) throws(SystemError) -> pid_t {
        let spawn = SystemCalls.Spawn(executable: argv[0], arguments: argv, searchPath: true,
                                      defaultSignals: [SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE])
        do { return try spawn.start() } catch { throw SystemError(error) }
    }
}
