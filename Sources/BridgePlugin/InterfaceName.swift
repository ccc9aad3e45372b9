/// Linux interface name rules (`dev_valid_name` in the kernel), checked before
/// any netlink call so a bad name is a clear config error, not an `EINVAL`.
enum InterfaceName {
    /// nil when valid, else why not.
    static func problem(with name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "empty" }
        if bytes.count > 15 { return "longer than 15 bytes" }
        if name == "." || name == ".." { return "reserved name" }
        if bytes.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 0x20 || $0 == 0x7f }) {
            return "contains '/', ':', whitespace or a control character"
        }
        return nil
    }

    /// The host-side veth name for an attachment: `hf` + 11 hex digits of a
    /// stable hash of containerID and ifname. Deterministic, so a retried ADD or a
    /// DEL without the container's netns finds the same link.
    static func hostVeth(containerID: String, ifname: String) -> String {
        // FNV-1a 64-bit: stable across processes and releases (unlike Hasher).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in containerID.utf8 + [0] + ifname.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash & 0xfff_ffff_ffff, radix: 16)
        return "hf" + String(repeating: "0", count: 11 - hex.count) + hex
    }
}
