import Glibc

/// The kernel's boot id: leases record it so reconcile can tell a lease from an
/// earlier boot (whose containers are provably gone) from a current one.
public enum BootID {
    /// `/proc/sys/kernel/random/boot_id`, read once per process; nil if unreadable.
    public static let current: String? = {
        let fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].filter { $0 > 0x20 }, as: UTF8.self)
    }()
}
