#if canImport(Glibc)
import Glibc
#endif

/// Who ran a destructive action, as written into audit records: the invoking
/// user (uid resolved with `getpwuid`), the `SUDO_USER` behind a sudo, and the
/// process (`ipamctl`, `cni-gc`, ...). Answers "who deleted these leases?"
/// after the fact, which the 1,574-resource incident could not.
public struct AuditActor: Sendable, Hashable, CustomStringConvertible {
    public var uid: UInt32
    public var user: String
    public var sudoUser: String?
    public var process: String
    public var pid: Int32

    public init(uid: UInt32, user: String, sudoUser: String?, process: String, pid: Int32) {
        self.uid = uid
        self.user = user
        self.sudoUser = sudoUser
        self.process = process
        self.pid = pid
    }

    /// The current process's actor.
    public static func current(process: String) -> AuditActor {
        let uid = getuid()
        var user = "uid\(uid)"
        if let pw = getpwuid(uid), let name = pw.pointee.pw_name { user = String(cString: name) }
        let sudo = getenv("SUDO_USER").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        return AuditActor(uid: uid, user: user, sudoUser: sudo, process: process, pid: getpid())
    }

    /// e.g. `root (uid 0, sudo from alice) via ipamctl[4242]`.
    public var description: String {
        "\(user) (uid \(uid)\(sudoUser.map { ", sudo from \($0)" } ?? "")) via \(process)[\(pid)]"
    }
}
