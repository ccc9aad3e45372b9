import CMnl
import Glibc
import Netlink

/// Canned kernel replies, built with the same libmnl writer as requests.
public enum Reply {
    /// A message of `type` with `flags` (no NLM_F_REQUEST), its family header and attributes.
    public static func message(type: some BinaryInteger, flags: Int32 = 0, _ body: (MessageWriter) -> Void) -> [UInt8] {
        let writer = MessageWriter(type: type, flags: 0)
        writer.header.pointee.nlmsg_flags = UInt16(flags)
        body(writer)
        return writer.finish().bytes
    }

    /// NLMSG_ERROR with error 0: the ACK (capped: no echoed request payload).
    public static func ack() -> [UInt8] { error(0) }

    /// NLMSG_ERROR with `-errno`, optionally with an extack message.
    public static func error(_ errno: Int32, message text: String? = nil) -> [UInt8] {
        var flags = Int32(NLM_F_CAPPED)
        if text != nil { flags |= Int32(NLM_F_ACK_TLVS) }
        return message(type: NLMSG_ERROR, flags: flags) { w in
            var err = nlmsgerr()
            err.error = -errno
            err.msg.nlmsg_len = 16
            w.extraHeader(err)
            if let text { w.string(NLMSGERR_ATTR_MSG.rawValue, text) }
        }
    }

    /// NLMSG_DONE, ending a dump; `errno` non-zero reports a mid-dump error.
    public static func done(errno: Int32 = 0, flags: Int32 = Int32(NLM_F_MULTI)) -> [UInt8] {
        message(type: NLMSG_DONE, flags: flags) { w in w.extraHeader(Int32(-errno)) }
    }

    /// RTM_NEWLINK as a dump entry. A veth port names its peer with `peerIndex`
    /// (IFLA_LINK, the peer's ifindex in its own namespace) and, when the peer
    /// lives in another namespace, `linkNetnsID` (IFLA_LINK_NETNSID), as the
    /// kernel reports a port whose container end is in a netns.
    public static func link(index: Int32, name: String, mtu: UInt32 = 1500, master: UInt32? = nil, alias: String? = nil,
                     mac: [UInt8]? = nil, kind: String? = nil, peerIndex: UInt32? = nil, linkNetnsID: Int32? = nil,
                     flags: Int32 = Int32(NLM_F_MULTI)) -> [UInt8] {
        message(type: RTM_NEWLINK, flags: flags) { w in
            var info = ifinfomsg()
            info.ifi_index = index
            info.ifi_flags = UInt32(IFF_UP)
            w.extraHeader(info)
            w.string(IFLA_IFNAME, name)
            w.u32(IFLA_MTU, mtu)
            if let master { w.u32(IFLA_MASTER, master) }
            if let alias { w.string(IFLA_IFALIAS, alias) }
            if let mac { w.bytes(IFLA_ADDRESS, mac) }
            if let kind { w.nest(IFLA_LINKINFO) { w.string(IFLA_INFO_KIND, kind) } }
            if let peerIndex { w.u32(IFLA_LINK, peerIndex) }
            if let linkNetnsID { w.s32(IFLA_LINK_NETNSID, linkNetnsID) }
        }
    }

    /// RTM_NEWADDR for an IPv4 address.
    public static func address(index: UInt32, _ bytes: [UInt8], prefix: UInt8, netnsID: Int32? = nil) -> [UInt8] {
        message(type: RTM_NEWADDR, flags: Int32(NLM_F_MULTI)) { w in
            var header = ifaddrmsg()
            header.ifa_family = UInt8(AF_INET)
            header.ifa_prefixlen = prefix
            header.ifa_index = index
            w.extraHeader(header)
            w.bytes(IFA_LOCAL, bytes)
            w.bytes(IFA_ADDRESS, bytes)
            if let netnsID { w.s32(IFA_TARGET_NETNSID, netnsID) }
        }
    }
}
