import Addressing
import CMnl
import Glibc

/// Builds rtnetlink requests as bytes, without a socket.
///
/// Every `NetlinkSocket` verb is a builder here plus a send, so the exact
/// request can be tested without root (golden hex) and read next to the `ip`
/// command it mirrors. Messages are built with sequence number 0; the socket
/// stamps a fresh one.
public enum RequestBuilder {
    /// Flags for "create, fail with EEXIST if present" (`ip link add`, `ip addr add`).
    static let create = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
    /// Flags for "create or replace" (`ip route replace`).
    static let replace = NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE

    /// IFNAMSIZ is 16 including the NUL; the kernel would answer EINVAL, but a
    /// named error here says which name was wrong.
    static func validate(name: String, _ operation: String) throws(NetlinkError) {
        guard !name.isEmpty, name.utf8.count < Int(IFNAMSIZ), !name.utf8.contains(0) else {
            throw NetlinkError(operation: operation,
                               kind: .invalidArgument("interface name \"\(name)\" must be 1...\(IFNAMSIZ - 1) bytes"))
        }
    }

    static func linkHeader(family: Int32 = AF_UNSPEC, index: Int = 0, flags: UInt32 = 0, change: UInt32 = 0) -> ifinfomsg {
        var info = ifinfomsg()
        info.ifi_family = UInt8(family)
        info.ifi_index = Int32(index)
        info.ifi_flags = flags
        info.ifi_change = change
        return info
    }

    static func family(_ address: IPAddress) -> UInt8 { UInt8(address.isIPv4 ? AF_INET : AF_INET6) }
}

/// Address families for dumps; nil where an API takes `AddressFamily?` means both.
public enum AddressFamily: Sendable, Hashable {
    case ipv4, ipv6

    var value: UInt8 { UInt8(self == .ipv4 ? AF_INET : AF_INET6) }

    static func value(_ family: AddressFamily?) -> UInt8 { family?.value ?? UInt8(AF_UNSPEC) }
}
