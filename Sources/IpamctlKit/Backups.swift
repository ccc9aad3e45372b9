#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import ArgumentParser
import LeaseStore

/// Backups taken before any destructive change: `<network dir>/backups/<UTC>-<action>.db`.
enum Backups {
    static func take(_ store: LeaseStore, action: String) throws -> String {
        let dir = store.location.directory + "/backups"
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            throw ValidationError("cannot create \(dir): \(String(cString: strerror(errno)))")
        }
        let stamp = Output.timestamp(Date()).replacingColons()
        let path = "\(dir)/\(stamp)-\(action).db"
        try store.backup(to: path)
        return path
    }
}

/// Who is acting, for audit records: the user (and the sudo user behind it).
enum Actor {
    static var current: String {
        let uid = getuid()
        let name = getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "uid \(uid)"
        if let sudo = getenv("SUDO_USER").map({ String(cString: $0) }) { return "ipamctl:\(name) (sudo by \(sudo))" }
        return "ipamctl:\(name)"
    }
}

extension String {
    func replacingColons() -> String { String(map { $0 == ":" ? "-" : $0 }) }
}
