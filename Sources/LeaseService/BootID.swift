import Glibc
import SystemCalls

/// The kernel's boot id: leases record it so reconcile can tell a lease from an
/// earlier boot (whose containers are provably gone) from a current one.
public enum BootID {
    /// `/proc/sys/kernel/random/boot_id`, read once per process; nil if unreadable.
    public static let current: String? = {
        guard let fd = try? FileDescriptor.open("/proc/sys/kernel/random/boot_id", flags: O_RDONLY | O_CLOEXEC),
              let bytes = fd.closing({ try? $0.readSome(maxCount: 64) }), !bytes.isEmpty else { return nil }
        return String(decoding: bytes.filter { $0 > 0x20 }, as: UTF8.self)
    }()
}
