#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// The syscalls the watchdog needs, wrapped once: each returns or throws a
/// `SystemError` carrying errno, and retries on `EINTR` where that is safe.
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
        while true {
            let fd = Glibc.open(path, flags | cloexec, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw .last("open \(path)")
        }
    }

    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Reads a whole (small) file such as a cgroup control file.
    static func readFile(_ path: String) throws(SystemError) -> String {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .last("read \(path)")
            }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
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
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .last("write \(what)")
            }
            offset += n
        }
    }

    static func fsync(_ fd: Int32, what: String) throws(SystemError) {
        while Glibc.fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw .last("fsync \(what)")
        }
    }

    /// Replaces `path` durably: write a temporary file beside it, fsync, rename
    /// over, fsync the directory. After return the content survives a power cut;
    /// a crash before return leaves either the old file or the new one, never a
    /// torn one.
    static func writeFileDurably(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(SystemError) {
        let dir = directoryName(path)
        try makeDirectories(dir)
        let temp = "\(path).tmp.\(getpid())"
        let fd = try open(temp, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        do {
            try writeAll(fd, bytes, what: temp)
            try fsync(fd, what: temp)
        } catch {
            close(fd)
            _ = unlink(temp)
            throw error
        }
        close(fd)
        guard rename(temp, path) == 0 else {
            let e = SystemError.last("rename \(temp) \(path)")
            _ = unlink(temp)
            throw e
        }
        try fsyncDirectory(dir)
    }

    /// Removes `path` and fsyncs its directory so the removal is durable too.
    /// Returns false when there was nothing to remove.
    @discardableResult
    static func removeFileDurably(_ path: String) throws(SystemError) -> Bool {
        guard unlink(path) == 0 else {
            if errno == ENOENT { return false }
            throw .last("unlink \(path)")
        }
        try fsyncDirectory(directoryName(path))
        return true
    }

    static func fsyncDirectory(_ dir: String) throws(SystemError) {
        let fd = try open(dir, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, what: dir)
    }

    /// `mkdir -p`, tolerating directories that already exist.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        if path.isEmpty || path == "/" || isDirectory(path) { return }
        try makeDirectories(directoryName(path), mode: mode)
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw .last("mkdir \(path)")
        }
    }

    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
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
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
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
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], nil, &attr, cArgs, environ)
        guard rc == 0 else { throw SystemError("posix_spawn \(argv[0])", errno: rc) }
        return pid
    }
}
