import Addressing
import CMnl
import Glibc

/// An address configured on an interface (RTM_NEWADDR).
public struct InterfaceAddress: Sendable, Hashable {
    public var linkIndex: Int
    /// The local address with its prefix length, e.g. `10.22.0.5/16`.
    public var address: IPNetwork
    /// RT_SCOPE_UNIVERSE (0), RT_SCOPE_LINK (253), RT_SCOPE_HOST (254)...
    public var scope: UInt8
    /// IFA_F_* flags (IFA_FLAGS when present, which carries bits beyond 8).
    public var flags: UInt32
    /// When dumped with a target netnsid, the namespace id the address lives in.
    public var netnsID: Int32?

    public init(linkIndex: Int, address: IPNetwork, scope: UInt8 = 0, flags: UInt32 = 0, netnsID: Int32? = nil) {
        self.linkIndex = linkIndex
        self.address = address
        self.scope = scope
        self.flags = flags
        self.netnsID = netnsID
    }

    /// IFA_F_TENTATIVE: IPv6 duplicate address detection has not finished, the
    /// address cannot be used yet.
    public var isTentative: Bool { flags & UInt32(IFA_F_TENTATIVE) != 0 }

    /// Decodes an RTM_NEWADDR message.
    init(message nlh: UnsafePointer<nlmsghdr>) throws(NetlinkError) {
        let header = try familyHeader(nlh, as: ifaddrmsg.self)
        let tb = try AttributeTable(message: nlh, offset: MemoryLayout<ifaddrmsg>.size)
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on
        // point-to-point links and equals IFA_LOCAL otherwise (IPv6 sends only IFA_ADDRESS).
        guard let raw = tb.bytes(IFA_LOCAL) ?? tb.bytes(IFA_ADDRESS), let ip = IPAddress(bytes: raw),
              let network = IPNetwork(address: ip, prefixLength: Int(header.ifa_prefixlen)) else {
            throw NetlinkError(operation: "parse RTM_NEWADDR", kind: .malformedReply("no usable IFA_LOCAL/IFA_ADDRESS"))
        }
        linkIndex = Int(header.ifa_index)
        address = network
        scope = header.ifa_scope
        flags = tb.u32(IFA_FLAGS) ?? UInt32(header.ifa_flags)
        netnsID = tb.s32(IFA_TARGET_NETNSID)
    }
}

extension RequestBuilder {
    /// `ip addr add ADDRESS/LEN dev IFACE [nodad]` (`replace` for `ip addr replace`).
    ///
    /// IPv4 gets `brd +` (the broadcast derived from the prefix, as CNI's
    /// reference plugins set it); IPv6 with `noDAD` gets IFA_F_NODAD so the
    /// address is usable at once instead of tentative for about a second.
    public static func addAddress(_ address: IPNetwork, linkIndex: Int, noDAD: Bool = false,
                                  replace: Bool = false) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_NEWADDR, flags: replace ? Self.replace : create)
        var header = ifaddrmsg()
        header.ifa_family = family(address.address)
        header.ifa_prefixlen = UInt8(address.prefixLength)
        header.ifa_index = UInt32(linkIndex)
        let flags: UInt32 = noDAD && !address.address.isIPv4 ? UInt32(IFA_F_NODAD) : 0
        header.ifa_flags = UInt8(truncatingIfNeeded: flags)
        w.extraHeader(header)
        w.bytes(IFA_LOCAL, address.address.bytes)
        w.bytes(IFA_ADDRESS, address.address.bytes)
        if address.address.isIPv4, address.prefixLength < 31 {
            w.bytes(IFA_BROADCAST, address.upper.bytes)
        }
        if flags != 0 { w.u32(IFA_FLAGS, flags) }
        return w.finish()
    }

    /// `ip addr del ADDRESS/LEN dev IFACE`
    public static func deleteAddress(_ address: IPNetwork, linkIndex: Int) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_DELADDR, flags: NLM_F_ACK)
        var header = ifaddrmsg()
        header.ifa_family = family(address.address)
        header.ifa_prefixlen = UInt8(address.prefixLength)
        header.ifa_index = UInt32(linkIndex)
        w.extraHeader(header)
        w.bytes(IFA_LOCAL, address.address.bytes)
        w.bytes(IFA_ADDRESS, address.address.bytes)
        return w.finish()
    }

    /// `ip addr show [dev IFACE]`, optionally in the namespace with id `netnsID`
    /// (IFA_TARGET_NETNSID; needs the strict dump checking the socket enables).
    public static func dumpAddresses(family: AddressFamily?, linkIndex: Int? = nil, netnsID: Int32? = nil) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_GETADDR, flags: NLM_F_DUMP)
        var header = ifaddrmsg()
        header.ifa_family = AddressFamily.value(family)
        header.ifa_index = UInt32(linkIndex ?? 0)
        w.extraHeader(header)
        if let netnsID { w.s32(IFA_TARGET_NETNSID, netnsID) }
        return w.finish()
    }
}

extension NetlinkSocket {
    /// Addresses of one family (nil: both) on one link (nil: all links).
    public func addresses(family: AddressFamily? = nil, linkIndex: Int? = nil) throws(NetlinkError) -> [InterfaceAddress] {
        // ip addr show [dev IFACE]
        try dumpAddresses(RequestBuilder.dumpAddresses(family: family, linkIndex: linkIndex),
                          "ip addr show", linkIndex: linkIndex)
    }

    /// Addresses inside another namespace, named by its nsid (see `nsid(of:)`),
    /// without entering it: this is how reconcile sees container addresses.
    public func addresses(inNetnsID netnsID: Int32, family: AddressFamily? = nil,
                          linkIndex: Int? = nil) throws(NetlinkError) -> [InterfaceAddress] {
        // ip -target-netnsid ID addr show   (ip has no such flag; IFA_TARGET_NETNSID)
        // Without strict checking the kernel drops IFA_TARGET_NETNSID and dumps our
        // own namespace: host addresses taken for a container's would mislead reconcile.
        guard hasStrictChecking else {
            throw NetlinkError(operation: "ip addr show (netnsid \(netnsID))", kind: .strictCheckingUnavailable)
        }
        return try dumpAddresses(RequestBuilder.dumpAddresses(family: family, linkIndex: linkIndex, netnsID: netnsID),
                          "ip addr show (netnsid \(netnsID))", linkIndex: linkIndex)
    }

    private func dumpAddresses(_ message: NetlinkMessage, _ operation: String,
                               linkIndex: Int?) throws(NetlinkError) -> [InterfaceAddress] {
        var result: [InterfaceAddress] = []
        try dump(message, operation: operation, onRestart: { result.removeAll() }) { nlh throws(NetlinkError) in
            let address = try InterfaceAddress(message: nlh)
            if linkIndex == nil || address.linkIndex == linkIndex { result.append(address) }
        }
        return result
    }

    /// Adds an address; `isExists` if it is already there.
    public func addAddress(_ address: IPNetwork, linkIndex: Int, noDAD: Bool = false, replace: Bool = false) throws(NetlinkError) {
        // ip addr add ADDRESS/LEN dev IFACE [nodad]
        try execute(RequestBuilder.addAddress(address, linkIndex: linkIndex, noDAD: noDAD, replace: replace),
                    operation: "ip addr \(replace ? "replace" : "add") \(address) dev \(linkIndex)")
    }

    /// Removes an address; `isNotFound` (EADDRNOTAVAIL) if it is not there.
    public func deleteAddress(_ address: IPNetwork, linkIndex: Int) throws(NetlinkError) {
        // ip addr del ADDRESS/LEN dev IFACE
        try execute(RequestBuilder.deleteAddress(address, linkIndex: linkIndex),
                    operation: "ip addr del \(address) dev \(linkIndex)")
    }
}
