import Addressing
import CMnl
import Glibc

/// A neighbour (ARP / NDP) table entry (RTM_NEWNEIGH).
///
/// Reconcile reads the host's entries on the bridge to see which container
/// addresses answered recently.
public struct Neighbour: Sendable, Hashable {
    public var address: IPAddress
    public var mac: MACAddress?
    /// NUD_* bits: NUD_REACHABLE, NUD_STALE, NUD_PERMANENT, NUD_FAILED...
    public var state: UInt16
    public var linkIndex: Int

    public init(address: IPAddress, mac: MACAddress?, state: UInt16, linkIndex: Int) {
        self.address = address
        self.mac = mac
        self.state = state
        self.linkIndex = linkIndex
    }

    /// NUD_REACHABLE: confirmed recently.
    public var isReachable: Bool { state & UInt16(NUD_REACHABLE) != 0 }

    init(message nlh: UnsafePointer<nlmsghdr>) throws(NetlinkError) {
        let header = try familyHeader(nlh, as: ndmsg.self)
        let tb = try AttributeTable(message: nlh, offset: MemoryLayout<ndmsg>.size)
        guard let raw = tb.bytes(NDA_DST), let ip = IPAddress(bytes: raw) else {
            throw NetlinkError(operation: "parse RTM_NEWNEIGH", kind: .malformedReply("no NDA_DST"))
        }
        address = ip
        mac = tb.bytes(NDA_LLADDR).flatMap { MACAddress(bytes: $0) }
        state = header.ndm_state
        linkIndex = Int(header.ndm_ifindex)
    }
}

extension RequestBuilder {
    /// `ip neigh show [dev IFACE]`
    ///
    /// With strict checking the header's ifindex must be 0; the link filter
    /// goes in NDA_IFINDEX instead.
    public static func dumpNeighbours(family: AddressFamily?, linkIndex: Int?) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_GETNEIGH, flags: NLM_F_DUMP)
        var header = ndmsg()
        header.ndm_family = AddressFamily.value(family)
        w.extraHeader(header)
        if let linkIndex { w.u32(NDA_IFINDEX, UInt32(linkIndex)) }
        return w.finish()
    }
}

extension NetlinkSocket {
    /// IPv4/IPv6 neighbour entries (nil family: both), optionally of one link.
    /// Bridge FDB entries (AF_BRIDGE) are not included.
    public func neighbours(family: AddressFamily? = nil, linkIndex: Int? = nil) throws(NetlinkError) -> [Neighbour] {
        // ip neigh show [dev IFACE]
        var result: [Neighbour] = []
        try dump(RequestBuilder.dumpNeighbours(family: family, linkIndex: linkIndex),
                 operation: "ip neigh show", onRestart: { result.removeAll() }) { nlh throws(NetlinkError) in
            let header = try familyHeader(nlh, as: ndmsg.self)
            guard header.ndm_family == UInt8(AF_INET) || header.ndm_family == UInt8(AF_INET6) else { return }
            let entry = try Neighbour(message: nlh)
            if linkIndex == nil || entry.linkIndex == linkIndex { result.append(entry) }
        }
        return result
    }
}
