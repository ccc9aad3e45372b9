import Glibc
import SystemCalls

/// Writes to `/proc/sys` of the current network namespace.
enum Sysctl {
    /// Writes `value` unless the file already holds it (saves a write on the hot path).
    static func set(_ path: String, _ value: String) throws(BridgeError) {
        let full = "/proc/sys/" + path
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(full, flags: O_RDWR | O_CLOEXEC) } catch {
            throw BridgeError.system("open \(full)", error.errno.rawValue)
        }
        defer { fd.closeQuietly() }
        if let current = try? fd.readSome(maxCount: 16), !current.isEmpty,
           String(decoding: current.filter { $0 > 0x20 }, as: UTF8.self) == value { return }
        let bytes = Array((value + "\n").utf8)
        let written: Int
        do { written = try bytes.withUnsafeBytes { try fd.write(toAbsoluteOffset: 0, $0) } } catch {
            throw BridgeError.system("write \(full)", (error as? Errno)?.rawValue ?? EIO)
        }
        guard written == bytes.count else { throw BridgeError.system("write \(full)", EIO) }
    }
}
