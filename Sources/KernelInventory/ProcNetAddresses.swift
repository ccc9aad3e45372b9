#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import Glibc
import SystemCalls
import SystemPackage

/// A process's local addresses read from `/proc/PID/net` (the files show the
/// process's network namespace), for processes whose `/proc/PID/ns/net` we may
/// not open: a non-dumpable process (a sandbox's init, for one) fails the
/// ptrace access check on its namespace handle, but not on these files.
///
/// IPv4 from `fib_trie` (an address followed by a `/32 host LOCAL` line),
/// IPv6 from `if_inet6` (address, ifindex, prefix, scope, flags, name).
enum ProcNetAddresses {
    enum Failure: Error {
        /// The process is gone (exited between listing and reading).
        case gone
        case unreadable(String)
    }

    static func read(procRoot: String, pid: String) throws(Failure) -> [(address: IPAddress, ifname: String?)] {
        var out: [(IPAddress, String?)] = []
        let trie = try text("\(procRoot)/\(pid)/net/fib_trie")
        var candidate: IPAddress?
        var seen = Set<IPAddress>()
        for line in trie.split(separator: "\n") {
            let trimmed = line.drop(while: { $0 == " " || $0 == "|" || $0 == "-" || $0 == "+" })
            if line.contains("|-- "), let a = IPAddress(trimmed) {
                candidate = a
            } else if line.contains("/32 host LOCAL"), let a = candidate, seen.insert(a).inserted {
                out.append((a, nil))
            }
        }
        for line in try text("\(procRoot)/\(pid)/net/if_inet6").split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[0].utf8.count == 32 else { continue }
            var bytes: [UInt8] = []
            var hex = fields[0][...]
            while !hex.isEmpty {
                guard let b = UInt8(hex.prefix(2), radix: 16) else { break }
                bytes.append(b)
                hex = hex.dropFirst(2)
            }
            if let a = IPAddress(bytes: bytes) { out.append((a, String(fields[5]))) }
        }
        return out
    }

    private static func text(_ path: String) throws(Failure) -> String {
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(path, flags: O_RDONLY | O_CLOEXEC) } catch {
            throw failure(error)
        }
        defer { fd.closeQuietly() }
        var data = [UInt8]()
        while true {
            // readSome loops on EINTR; /proc seq files are read sequentially, not by offset.
            let chunk: [UInt8]
            do { chunk = try fd.readSome(maxCount: 16384, what: "read(\(path))") } catch { throw failure(error) }
            if chunk.isEmpty { break }
            data += chunk
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// ENOENT and ESRCH mean the process exited between listing and reading.
    private static func failure(_ error: SystemCallError) -> Failure {
        error.errno == .noSuchFileOrDirectory || error.errno == .noSuchProcess ? .gone : .unreadable(error.description)
    }
}
