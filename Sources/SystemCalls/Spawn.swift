#if canImport(Glibc)
import Glibc
#endif
import CSpawn
import SystemPackage

/// Starting a child process with `posix_spawn`: no fork of a (possibly large)
/// address space, no Foundation `Process`, and a child that starts clean.
///
/// The child always gets an empty signal mask (a blocked mask is inherited
/// across exec: the watchdog blocks TERM/INT/HUP/CHLD for its signalfd, which
/// would make an agent deaf to SIGTERM) and default handling for
/// `defaultSignals`. Descriptors are passed only by `redirections` (dup2 onto
/// the child's 0, 1, ...); every other descriptor we open is close-on-exec.
public struct Spawn: Sendable {
    /// A path, or a bare name looked up in `PATH` when `searchPath` is set.
    public var executable: String
    /// argv, including argv[0].
    public var arguments: [String]
    /// `KEY=value` entries; nil inherits this process's environment.
    public var environment: [String]?
    public var searchPath: Bool
    /// (descriptor in this process, descriptor number in the child).
    public var redirections: [(source: Int32, target: Int32)]
    /// Signals whose disposition is reset to the default in the child.
    public var defaultSignals: [Int32]
    /// A child that outlives us: its own session (no signal to our process
    /// group reaches it) and no descriptor above the redirected ones, not even
    /// one a caller leaked to us without close-on-exec. A CNI runtime reads the
    /// plugin's stdout until every writer has closed it, so a detached child
    /// that kept a copy would hold the runtime up as long as it lives.
    public var detached: Bool

    public init(executable: String, arguments: [String]? = nil, environment: [String]? = nil, searchPath: Bool = false,
                redirections: [(source: Int32, target: Int32)] = [], defaultSignals: [Int32] = [SIGPIPE],
                detached: Bool = false) {
        self.executable = executable
        self.arguments = arguments ?? [executable]
        self.environment = environment
        self.searchPath = searchPath
        self.redirections = redirections
        self.defaultSignals = defaultSignals
        self.detached = detached
    }

    /// Starts the child and returns its pid (reap it with `waitpid`).
    public func start() throws(SystemCallError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for r in redirections { posix_spawn_file_actions_adddup2(&actions, r.source, r.target) }
        if detached {
            let lowest = (redirections.map(\.target).max() ?? -1) + 1
            holdfast_spawn_add_closefrom(&actions, max(lowest, 3))
        }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attr, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in defaultSignals { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (detached ? Int32(holdfast_spawn_setsid_flag()) : 0)))

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup($0) } + [nil] }
        defer {
            for p in argv { free(p) }
            for p in envp ?? [] { free(p) }
        }
        var pid: pid_t = 0
        let rc: Int32 = envp.map { envp in
            searchPath ? posix_spawnp(&pid, executable, &actions, &attr, argv, envp)
                       : posix_spawn(&pid, executable, &actions, &attr, argv, envp)
        } ?? (searchPath ? posix_spawnp(&pid, executable, &actions, &attr, argv, environ)
                         : posix_spawn(&pid, executable, &actions, &attr, argv, environ))
        guard rc == 0 else { throw SystemCallError("posix_spawn(\(executable))", errno: Errno(rawValue: rc)) }
        return pid
    }
}
