import CMnl
import Glibc
@testable import Netlink

/// A transport that records every request and replays canned replies, so a
/// `NetlinkSocket` is tested without root or a kernel (the approach of
/// apple/containerization's netlink tests).
///
/// Each request pops the next script: a list of datagrams, each a list of
/// messages. The mock stamps every reply with the request's sequence number,
/// as the kernel does, unless `stampSequence` is false (to test that the
/// socket rejects a stale reply).
final class MockNetlinkTransport: NetlinkTransport {
    var portID: UInt32 = 0
    var fileDescriptor: Int32 { closed ? -1 : 99 }
    private(set) var requests: [NetlinkMessage] = []
    private var scripts: [[[UInt8]]] = []
    private var pending: [[UInt8]] = []
    private(set) var closed = false
    var stampSequence = true

    /// Queues the replies to the next request, one argument per datagram (a
    /// datagram may hold several messages concatenated).
    func reply(_ datagrams: [UInt8]...) {
        scripts.append(datagrams)
    }

    func send(_ bytes: [UInt8], operation: String) throws(NetlinkError) {
        guard !closed else { throw .system(operation, errno: EBADF) }
        let request = NetlinkMessage(bytes: bytes)
        requests.append(request)
        let script = scripts.isEmpty ? [] : scripts.removeFirst()
        pending += script.map { stampSequence ? Self.stamp($0, sequence: request.sequence) : $0 }
    }

    func receive(into buffer: UnsafeMutableRawPointer, capacity: Int, operation: String) throws(NetlinkError) -> Int {
        guard !closed else { throw .system(operation, errno: EBADF) }
        guard !pending.isEmpty else {
            // A real socket would block forever: fail loudly instead.
            throw NetlinkError(operation: operation, kind: .system, errno: EAGAIN)
        }
        let datagram = pending.removeFirst()
        guard datagram.count <= capacity else { throw NetlinkError(operation: operation, kind: .truncatedReply, errno: ENOSPC) }
        datagram.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return datagram.count
    }

    func close() { closed = true }

    /// Writes `sequence` into every message of `datagram`.
    static func stamp(_ datagram: [UInt8], sequence: UInt32) -> [UInt8] {
        var out = datagram
        var offset = 0
        while offset + 16 <= out.count {
            let length = Int(out[offset]) | Int(out[offset + 1]) << 8 | Int(out[offset + 2]) << 16 | Int(out[offset + 3]) << 24
            guard length >= 16 else { break }
            withUnsafeBytes(of: sequence.littleEndian) { for (i, b) in $0.enumerated() { out[offset + 8 + i] = b } }
            offset += (length + 3) & ~3
        }
        return out
    }
}

/// Canned kernel replies, built with the same libmnl writer as requests.
enum Reply {
    /// A message of `type` with `flags` (no NLM_F_REQUEST), its family header and attributes.
    static func message(type: some BinaryInteger, flags: Int32 = 0, _ body: (MessageWriter) -> Void) -> [UInt8] {
        let writer = MessageWriter(type: type, flags: 0)
        writer.header.pointee.nlmsg_flags = UInt16(flags)
        body(writer)
        return writer.finish().bytes
    }

    /// NLMSG_ERROR with error 0: the ACK (capped: no echoed request payload).
    static func ack() -> [UInt8] { error(0) }

    /// NLMSG_ERROR with `-errno`, optionally with an extack message.
    static func error(_ errno: Int32, message text: String? = nil) -> [UInt8] {
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
    static func done(errno: Int32 = 0, flags: Int32 = Int32(NLM_F_MULTI)) -> [UInt8] {
        message(type: NLMSG_DONE, flags: flags) { w in w.extraHeader(Int32(-errno)) }
    }

    /// RTM_NEWLINK as a dump entry.
    static func link(index: Int32, name: String, mtu: UInt32 = 1500, master: UInt32? = nil, alias: String? = nil,
                     mac: [UInt8]? = nil, kind: String? = nil, flags: Int32 = Int32(NLM_F_MULTI)) -> [UInt8] {
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
        }
    }

    /// RTM_NEWADDR for an IPv4 address.
    static func address(index: UInt32, _ bytes: [UInt8], prefix: UInt8, netnsID: Int32? = nil) -> [UInt8] {
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
