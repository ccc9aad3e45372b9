import Glibc

/// Facts about this boot of this host, recorded in the fence and the state file.
public enum HostIdentity {
    /// The kernel's random boot id; changes at every boot.
    public static func bootID() -> String {
        Sys.trimmed((try? Sys.readFile("/proc/sys/kernel/random/boot_id")) ?? "unknown")
    }

    public static func hostname() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let rc = buffer.withUnsafeMutableBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { gethostname($0.baseAddress!, $0.count - 1) }
        }
        guard rc == 0 else { return "unknown" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }), as: UTF8.self)
    }

    /// True when PID 1 is systemd (its runtime directory exists), so poweroff and
    /// reboot go through it and units stop in order.
    public static func systemdIsInit() -> Bool {
        Sys.isDirectory("/run/systemd/system")
    }
}
