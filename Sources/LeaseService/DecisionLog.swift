#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import SystemCalls

/// One plugin decision as a JSON line in the structured log.
public struct Decision: Encodable, Sendable {
    /// RFC 3339 UTC with milliseconds.
    public var time: String
    public var verb: String
    public var network: String
    public var container: String?
    public var ifname: String?
    public var addresses: [String]
    public var durationMs: Double
    /// "ok" or "error".
    public var outcome: String
    /// CNI error code when `outcome` is "error".
    public var code: Int?
    public var message: String?
    public var plugin: String
    public var pid: Int32

    /// Public because the CNI adapter (`ObservedPlugin`) builds the records.
    public init(time: String, verb: String, network: String, container: String?, ifname: String?,
                addresses: [String], durationMs: Double, outcome: String, code: Int?, message: String?,
                plugin: String, pid: Int32) {
        self.time = time
        self.verb = verb
        self.network = network
        self.container = container
        self.ifname = ifname
        self.addresses = addresses
        self.durationMs = durationMs
        self.outcome = outcome
        self.code = code
        self.message = message
        self.plugin = plugin
        self.pid = pid
    }
}

/// The structured log: one JSON line per plugin decision, appended with
/// `O_APPEND` (one `write` per line, so concurrent plugin processes never
/// interleave within a line), rotated by size.
///
/// Never stdout (the CNI result lives there) and never fatal: every failure
/// (no directory, disk full, permission) is swallowed, because losing a log
/// line is always better than failing an ADD.
///
/// Rotation: when a line would take the file past `maxBytes`, the appender
/// that wins a non-blocking flock on the live file shifts `log.(k-1)` to
/// `log.k` ... `log` to `log.1` (keeping `keep` old files); others keep
/// appending to the file they opened, which is now `log.1`: no line is lost.
public struct DecisionLog: Sendable {
    public var path: String
    public var maxBytes: Int
    public var keep: Int

    public init(path: String, maxBytes: Int = OperationsConfig.defaultLogMaxBytes, keep: Int = OperationsConfig.defaultLogKeep) {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = keep
    }

    /// The log configured for this run: `ipam.logFile`, else `$HOLDFAST_LOG`, else none.
    public static func configured(_ ops: OperationsConfig?, environment: [String: String]) -> DecisionLog? {
        let path = ops?.logFile ?? environment[OperationsConfig.logEnvironmentVariable].flatMap { $0.hasPrefix("/") ? $0 : nil }
        guard let path else { return nil }
        return DecisionLog(path: path, maxBytes: ops?.logMaxBytes ?? OperationsConfig.defaultLogMaxBytes,
                           keep: ops?.logKeep ?? OperationsConfig.defaultLogKeep)
    }

    /// Appends `decision`; never throws.
    public func append(_ decision: Decision) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(decision) else { return }
        line.append(0x0a)
        guard var fd = openLog() else { return }
        var st = stat()
        if fstat(fd.rawValue, &st) == 0, Int(st.st_size) + line.count > maxBytes, st.st_size > 0 {
            if rotate(fd, inode: st.st_ino) {
                fd.closeQuietly()
                guard let reopened = openLog() else { return }
                fd = reopened
            }
        }
        // One write(2) per line under O_APPEND: concurrent appenders never interleave.
        _ = line.withUnsafeBytes { try? fd.write($0) }
        fd.closeQuietly()
    }

    private func openLog() -> FileDescriptor? {
        let flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC
        do {
            return try FileDescriptor.open(path, flags: flags, mode: 0o640)
        } catch where error.errno == .noSuchFileOrDirectory {
            guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return nil }
            _ = mkdir(String(path[..<slash]), 0o750)
            return try? FileDescriptor.open(path, flags: flags, mode: 0o640)
        } catch {
            return nil
        }
    }

    /// Shifts the files if `fd` is still the live log; true when it rotated.
    private func rotate(_ fd: FileDescriptor, inode: ino_t) -> Bool {
        guard (try? fd.tryLock()) == true else { return false }
        defer { _ = flock(fd.rawValue, LOCK_UN) }
        var live = stat()
        guard stat(path, &live) == 0, live.st_ino == inode else { return true }  // someone else rotated
        guard keep > 0 else { return unlink(path) == 0 }
        for k in stride(from: keep - 1, through: 1, by: -1) { _ = rename("\(path).\(k)", "\(path).\(k + 1)") }
        return rename(path, "\(path).1") == 0
    }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-23T13:37:39.123Z`.
    /// A date no calendar can show (an edited store row at INT64_MAX ms) prints
    /// as `invalid-time(<ms>)` instead of trapping.
    public static func timestamp(_ date: Date) -> String {
        let scaled = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard let ms = Int64(exactly: scaled), scaled.magnitude < 9.2e18 else { return "invalid-time(\(scaled))" }
        var t = time_t(ms / 1000)
        var tm = tm()
        guard gmtime_r(&t, &tm) != nil, ms >= 0 else { return "invalid-time(\(ms))" }
        func pad(_ v: Int32, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
            + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(ms % 1000), 3))Z"
    }
}
