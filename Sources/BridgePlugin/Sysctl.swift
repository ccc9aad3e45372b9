import Glibc

/// Writes to `/proc/sys` of the current network namespace.
enum Sysctl {
    /// Writes `value` unless the file already holds it (saves a write on the hot path).
    static func set(_ path: String, _ value: String) throws(BridgeError) {
        let full = "/proc/sys/" + path
        let fd = open(full, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw BridgeError.system("open \(full)", errno) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &buffer, buffer.count)
        if n > 0, String(decoding: buffer[0..<n].filter { $0 > 0x20 }, as: UTF8.self) == value { return }
        let bytes = Array((value + "\n").utf8)
        guard pwrite(fd, bytes, bytes.count, 0) == bytes.count else { throw BridgeError.system("write \(full)", errno) }
    }
}
