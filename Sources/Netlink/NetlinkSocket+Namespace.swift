import CMnl
import Glibc

extension RequestBuilder {
    /// `ip netns list-id` for one namespace: RTM_GETNSID with NETNSA_FD.
    public static func getNSID(fd: Int32) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_GETNSID, flags: NLM_F_ACK)
        var header = rtgenmsg()
        header.rtgen_family = UInt8(AF_UNSPEC)
        w.extraHeader(header)
        w.u32(NETNSA_FD, UInt32(bitPattern: fd))
        return w.finish()
    }

    /// `ip netns set NAME auto|ID`: RTM_NEWNSID with NETNSA_FD and NETNSA_NSID (-1 = kernel picks).
    public static func setNSID(fd: Int32, nsid: Int32 = -1) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_NEWNSID, flags: RequestBuilder.create)
        var header = rtgenmsg()
        header.rtgen_family = UInt8(AF_UNSPEC)
        w.extraHeader(header)
        w.u32(NETNSA_FD, UInt32(bitPattern: fd))
        w.s32(NETNSA_NSID, nsid)
        return w.finish()
    }
}

extension NetlinkSocket {
    /// The id this socket's namespace uses for the namespace open at `fd`, or
    /// nil if none is assigned yet (NETNSA_NSID_NOT_ASSIGNED).
    ///
    /// The host side of a veth reports its peer's namespace as
    /// `Link.linkNetnsID`; comparing it with `nsid(of:)` of a lease's netns path
    /// tells reconcile which container a bridge port belongs to.
    public func nsid(of fd: Int32) throws(NetlinkError) -> Int32? {
        // ip netns list-id (for one netns fd)
        var result: Int32?
        try execute(RequestBuilder.getNSID(fd: fd), operation: "ip netns list-id (fd \(fd))") { nlh throws(NetlinkError) in
            guard nlh.pointee.nlmsg_type == UInt16(RTM_NEWNSID) else { return }
            let tb = try AttributeTable(message: nlh, offset: MemoryLayout<rtgenmsg>.size)
            guard let id = tb.s32(NETNSA_NSID) else {
                throw NetlinkError(operation: "parse RTM_NEWNSID", kind: .malformedReply("no NETNSA_NSID"))
            }
            result = id < 0 ? nil : id
        }
        return result
    }

    /// The namespace's id, assigning one first if it has none (needed before
    /// `addresses(inNetnsID:)` can name it). Safe against a concurrent assigner.
    public func ensureNSID(of fd: Int32) throws(NetlinkError) -> Int32 {
        // ip netns set NAME auto
        if let id = try nsid(of: fd) { return id }
        do {
            try execute(RequestBuilder.setNSID(fd: fd), operation: "ip netns set (fd \(fd)) auto")
        } catch where error.isExists {
            // Someone else assigned one in between; read it below.
        }
        guard let id = try nsid(of: fd) else {
            throw NetlinkError(operation: "ip netns set (fd \(fd)) auto", kind: .malformedReply("no nsid after assignment"))
        }
        return id
    }
}
