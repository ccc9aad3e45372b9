#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import SystemCalls

/// Runs another CNI plugin (spec Section 4), e.g. a foreign IPAM named by
/// `ipam.type`.
///
/// The child gets the same environment (with `CNI_COMMAND` set to the verb),
/// the given config on stdin, our stderr, and nothing else: every descriptor
/// we open is close-on-exec. Started with `posix_spawn` (no Foundation
/// `Process`). Its stdout is read with a bound; stdin is fed through a socket
/// written with `MSG_NOSIGNAL`, so a child that exits without reading cannot
/// kill us with SIGPIPE, and stdin and stdout are multiplexed with `poll`, so
/// a child that writes before reading everything cannot deadlock us.
public enum DelegatedPlugin {
    /// Largest accepted child output.
    public static let defaultMaxOutput = 1 << 20

    /// The executable for `type` in the `CNI_PATH` directories.
    ///
    /// - `type` with `/` (or empty, `.`/`..`) is code 7: the spec forbids path
    ///   characters, and accepting them would let a config run any binary.
    /// - An empty path list is code 4 naming `CNI_PATH`.
    /// - No regular executable file found is code 7 listing the directories.
    public static func find(type: String, in path: [String]) throws(CNIError) -> String {
        guard !type.isEmpty, !type.contains("/"), !type.contains("\0"), type != ".", type != ".." else {
            throw .invalidConfig("invalid plugin type \"\(type)\"", details: "a plugin type must be a file name, without \"/\"")
        }
        guard !path.isEmpty else {
            throw .invalidEnvironment("CNI_PATH is empty or missing", details: "needed to find plugin \"\(type)\"")
        }
        for dir in path where !dir.isEmpty {
            let candidate = dir.hasSuffix("/") ? dir + type : dir + "/" + type
            var st = stat()
            if stat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        throw .invalidConfig("failed to find plugin \"\(type)\" in path [\(path.joined(separator: " "))]")
    }

    /// Runs plugin `type` with `command` and returns its stdout on exit status 0.
    ///
    /// On a non-zero exit, the child's error JSON becomes a `CNIError` with its
    /// code, msg and details unchanged; output that is not error JSON becomes
    /// code 999 naming the plugin and its exit status. Output beyond
    /// `maxOutput` or a run past `timeout` kills the child (SIGKILL) and is
    /// code 999 or 11 respectively.
    public static func exec(type: String, command: CNICommand, config: Data, environment: [String: String],
                            cniPath: [String], timeout: Duration? = nil,
                            maxOutput: Int = defaultMaxOutput) throws(CNIError) -> Data {
        let executable = try find(type: type, in: cniPath)
        var env = environment
        env["CNI_COMMAND"] = command.rawValue
        let child = try Child.spawn(executable: executable, environment: env)
        let output = try child.exchange(input: Array(config), timeout: timeout, maxOutput: maxOutput, name: type)
        let status = child.wait()
        if status.exitCode == 0 { return Data(output) }
        if let e = parseError(output) { throw e }
        let text = String(decoding: output.prefix(512), as: UTF8.self)
        throw .internal("plugin \"\(type)\" failed (\(status))", details: text)
    }

    /// Convenience: delegates the request's verb with the request's exact
    /// stdin and environment.
    public static func exec(type: String, command: CNICommand, request: CNIRequest,
                            timeout: Duration? = nil) throws(CNIError) -> Data {
        try exec(type: type, command: command, config: request.stdinBytes, environment: request.environment.raw,
                 cniPath: request.environment.path, timeout: timeout)
    }

    /// Delegated ADD: runs the plugin and decodes its result (code 6 if malformed).
    public static func add(type: String, request: CNIRequest, timeout: Duration? = nil) throws(CNIError) -> CNIResult {
        let out = try exec(type: type, command: .add, request: request, timeout: timeout)
        return try CNIResult(decoding: out)
    }

    /// An error result (`{"code": N, "msg": ...}`) in child output, if it is one.
    static func parseError(_ output: [UInt8]) -> CNIError? {
        guard let v = try? JSONValue.decode(Data(output)), let code = v["code"]?.intValue else { return nil }
        return CNIError(code: code, msg: v["msg"]?.stringValue ?? "", details: v["details"]?.stringValue ?? "")
    }
}

/// How a child ended.
struct ExitStatus: CustomStringConvertible {
    var raw: Int32
    /// nil when killed by a signal.
    var exitCode: Int32? { raw & 0x7f == 0 ? (raw >> 8) & 0xff : nil }
    var signal: Int32? { raw & 0x7f == 0 ? nil : raw & 0x7f }
    var description: String {
        if let c = exitCode { return "exit status \(c)" }
        return "killed by signal \(signal ?? 0)"
    }
}

/// A spawned plugin process and our ends of its stdin/stdout.
struct Child {
    var pid: pid_t
    var stdinFD: Int32
    var stdoutFD: Int32

    static func spawn(executable: String, environment: [String: String]) throws(CNIError) -> Child {
        // stdin: a Unix stream socket, so writes can use MSG_NOSIGNAL.
        var sv: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sv) == 0 else {
            throw .ioFailure("socketpair for delegated plugin stdin failed", details: FD.errnoText())
        }
        // stdout: also a socket pair, because SOCK_CLOEXEC makes close-on-exec
        // atomic (Glibc's Swift module does not export pipe2).
        var out: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &out) == 0 else {
            let text = FD.errnoText()
            close(sv[0]); close(sv[1])
            throw .ioFailure("socketpair for delegated plugin stdout failed", details: text)
        }
        // Our ends are never inherited (CLOEXEC); the child's ends are dup2'd
        // onto 0 and 1, which clears CLOEXEC on the copies only. A plugin sees
        // default SIGPIPE handling and no blocked signals, whatever ours are.
        let spawn = Spawn(executable: executable,
                          environment: environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
                          redirections: [(sv[1], 0), (out[1], 1)], defaultSignals: [SIGPIPE])
        let started = Result { () throws(SystemCallError) -> pid_t in try spawn.start() }
        close(sv[1])
        close(out[1])
        switch started {
        case .success(let pid):
            return Child(pid: pid, stdinFD: sv[0], stdoutFD: out[0])
        case .failure(let error):
            close(sv[0]); close(out[0])
            throw .internal("failed to execute plugin \(executable)", details: FD.errnoText(error.errno.rawValue))
        }
    }

    /// Feeds `input` and collects stdout until EOF, within the bounds; kills
    /// and reaps the child when a bound is hit. Closes both descriptors.
    func exchange(input: [UInt8], timeout: Duration?, maxOutput: Int, name: String) throws(CNIError) -> [UInt8] {
        var inFD: Int32 = stdinFD
        var outFD: Int32 = stdoutFD
        defer {
            if inFD >= 0 { close(inFD) }
            if outFD >= 0 { close(outFD) }
        }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var written = 0
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        if input.isEmpty { close(inFD); inFD = -1 }
        while outFD >= 0 {
            var fds: [pollfd] = [pollfd(fd: outFD, events: Int16(POLLIN), revents: 0)]
            if inFD >= 0 { fds.append(pollfd(fd: inFD, events: Int16(POLLOUT), revents: 0)) }
            var waitMS: Int32 = -1
            if let deadline {
                let left = deadline - ContinuousClock.now
                if left <= .zero {
                    kill()
                    throw .tryAgainLater("plugin \"\(name)\" did not finish within \(timeout!)")
                }
                let (s, atto) = left.components
                waitMS = Int32(clamping: s * 1000 + atto / 1_000_000_000_000_000 + 1)
            }
            let n = poll(&fds, nfds_t(fds.count), waitMS)
            if n < 0 {
                if errno == EINTR { continue }
                let text = FD.errnoText()
                kill()
                throw .ioFailure("poll on plugin \"\(name)\" failed", details: text)
            }
            if n == 0 { continue }  // the deadline check above fires next

            if fds.count > 1, fds[1].revents != 0 {
                let sent = input.withUnsafeBytes { p in
                    send(inFD, p.baseAddress! + written, input.count - written, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                }
                if sent > 0 {
                    written += sent
                } else if sent < 0, errno != EAGAIN, errno != EINTR {
                    written = input.count  // the child stopped reading (EPIPE): its exit status decides
                }
                if written >= input.count { close(inFD); inFD = -1 }
            }
            if fds[0].revents != 0 {
                let got = buffer.withUnsafeMutableBytes { Glibc.read(outFD, $0.baseAddress, $0.count) }
                if got == 0 {
                    close(outFD); outFD = -1
                } else if got > 0 {
                    output += buffer.prefix(got)
                    if output.count > maxOutput {
                        kill()
                        throw .internal("plugin \"\(name)\" wrote more than \(maxOutput) bytes")
                    }
                } else if errno != EINTR, errno != EAGAIN {
                    let text = FD.errnoText()
                    kill()
                    throw .ioFailure("reading plugin \"\(name)\" output failed", details: text)
                }
            }
        }
        return output
    }

    /// SIGKILL and reap, so no zombie or runaway child outlives the error.
    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
        _ = wait()
    }

    /// Reaps the child (retrying on EINTR).
    func wait() -> ExitStatus {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { break }
        }
        return ExitStatus(raw: status)
    }
}
