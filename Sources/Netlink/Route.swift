import Addressing
import CMnl
import Glibc

/// A route (RTM_NEWROUTE). A default route is destination `0.0.0.0/0` or `::/0`.
public struct Route: Sendable, Hashable {
    public var destination: IPNetwork
    public var gateway: IPAddress?
    /// RTA_OIF: the output interface.
    public var outputIndex: Int?
    /// RTAX_MTU in RTA_METRICS.
    public var mtu: Int?
    /// RTAX_ADVMSS in RTA_METRICS.
    public var advmss: Int?
    /// RTA_PRIORITY (the metric).
    public var priority: UInt32?
    /// Routing table; nil means main (254).
    public var table: UInt32?
    /// nil picks like `ip route`: link scope without a gateway, universe with one.
    public var scope: UInt8?
    /// RTPROT_* that installed it; requests send it when set, else RTPROT_BOOT like `ip`
    /// (cluster mode marks its routes with its own value so it only ever touches those).
    public var routeProtocol: UInt8?
    /// RTN_* type; nil means unicast.
    public var type: UInt8?

    public init(destination: IPNetwork, gateway: IPAddress? = nil, outputIndex: Int? = nil, mtu: Int? = nil,
                advmss: Int? = nil, priority: UInt32? = nil, table: UInt32? = nil, scope: UInt8? = nil) {
        self.destination = destination
        self.gateway = gateway
        self.outputIndex = outputIndex
        self.mtu = mtu
        self.advmss = advmss
        self.priority = priority
        self.table = table
        self.scope = scope
    }

    /// True for `0.0.0.0/0` and `::/0`.
    public var isDefault: Bool { destination.prefixLength == 0 }

    /// The table, defaulting to main.
    var effectiveTable: UInt32 { table ?? UInt32(RT_TABLE_MAIN.rawValue) }

    /// Decodes an RTM_NEWROUTE message.
    init(message nlh: UnsafePointer<nlmsghdr>) throws(NetlinkError) {
        let header = try familyHeader(nlh, as: rtmsg.self)
        let tb = try AttributeTable(message: nlh, offset: MemoryLayout<rtmsg>.size)
        let zero: IPAddress = header.rtm_family == UInt8(AF_INET) ? .v4(IPv4Address(0)) : .v6(IPv6Address(high: 0, low: 0))
        let dst = tb.bytes(RTA_DST.rawValue).flatMap { IPAddress(bytes: $0) } ?? zero
        guard let destination = IPNetwork(address: dst, prefixLength: Int(header.rtm_dst_len)) else {
            throw NetlinkError(operation: "parse RTM_NEWROUTE", kind: .malformedReply("bad destination"))
        }
        self.destination = destination
        gateway = tb.bytes(RTA_GATEWAY.rawValue).flatMap { IPAddress(bytes: $0) }
        outputIndex = tb.u32(RTA_OIF.rawValue).map(Int.init)
        priority = tb.u32(RTA_PRIORITY.rawValue)
        table = tb.u32(RTA_TABLE.rawValue) ?? UInt32(header.rtm_table)
        scope = header.rtm_scope
        routeProtocol = header.rtm_protocol
        type = header.rtm_type
        if let metrics = tb.nested(RTA_METRICS.rawValue) {
            mtu = metrics.u32(RTAX_MTU).map(Int.init)
            advmss = metrics.u32(RTAX_ADVMSS).map(Int.init)
        }
    }
}

extension RequestBuilder {
    /// `ip route add|replace|del DEST [via GW] [dev IFACE] [metric N] [table T] [mtu N] [advmss N]`
    public static func route(_ route: Route, type messageType: Int, flags: Int32) -> NetlinkMessage {
        let w = MessageWriter(type: messageType, flags: flags)
        let isDelete = messageType == RTM_DELROUTE
        var header = rtmsg()
        header.rtm_family = family(route.destination.address)
        header.rtm_dst_len = UInt8(route.destination.prefixLength)
        let table = route.effectiveTable
        header.rtm_table = table < 256 ? UInt8(table) : UInt8(RT_TABLE_UNSPEC.rawValue)
        if isDelete {
            // ip route del: scope NOWHERE matches a route of any scope.
            header.rtm_scope = UInt8(RT_SCOPE_NOWHERE.rawValue)
        } else {
            header.rtm_protocol = route.routeProtocol ?? UInt8(RTPROT_BOOT)
            header.rtm_scope = route.scope ?? UInt8(route.gateway == nil ? RT_SCOPE_LINK.rawValue : RT_SCOPE_UNIVERSE.rawValue)
            header.rtm_type = route.type ?? UInt8(RTN_UNICAST)
        }
        w.extraHeader(header)
        if route.destination.prefixLength > 0 { w.bytes(RTA_DST.rawValue, route.destination.lower.bytes) }
        if let gateway = route.gateway { w.bytes(RTA_GATEWAY.rawValue, gateway.bytes) }
        if let oif = route.outputIndex { w.u32(RTA_OIF.rawValue, UInt32(oif)) }
        if let priority = route.priority { w.u32(RTA_PRIORITY.rawValue, priority) }
        if table >= 256 { w.u32(RTA_TABLE.rawValue, table) }
        if !isDelete, route.mtu != nil || route.advmss != nil {
            w.nest(RTA_METRICS.rawValue) {
                if let mtu = route.mtu { w.u32(RTAX_MTU, UInt32(mtu)) }
                if let advmss = route.advmss { w.u32(RTAX_ADVMSS, UInt32(advmss)) }
            }
        }
        return w.finish()
    }

    /// `ip route show` (all tables; callers filter).
    public static func dumpRoutes(family: AddressFamily?) -> NetlinkMessage {
        let w = MessageWriter(type: RTM_GETROUTE, flags: NLM_F_DUMP)
        var header = rtmsg()
        header.rtm_family = AddressFamily.value(family)
        w.extraHeader(header)
        return w.finish()
    }
}

extension NetlinkSocket {
    /// Adds a route; `isExists` if an identical one exists, unless `replace`.
    public func addRoute(_ route: Route, replace: Bool = false) throws(NetlinkError) {
        // ip route add|replace DEST [via GW] [dev IFACE] [metric N] [table T] [mtu N] [advmss N]
        try execute(RequestBuilder.route(route, type: RTM_NEWROUTE, flags: replace ? RequestBuilder.replace : RequestBuilder.create),
                    operation: "ip route \(replace ? "replace" : "add") \(Self.describe(route))")
    }

    /// Deletes a route; `isNotFound` (ESRCH) if there is none.
    public func deleteRoute(_ route: Route) throws(NetlinkError) {
        // ip route del DEST [via GW] [dev IFACE] [metric N] [table T]
        try execute(RequestBuilder.route(route, type: RTM_DELROUTE, flags: NLM_F_ACK),
                    operation: "ip route del \(Self.describe(route))")
    }

    /// Routes of one family (nil: both) in one table (nil: every table; default main).
    /// Cached/cloned entries are skipped.
    public func routes(family: AddressFamily? = nil, table: UInt32? = UInt32(RT_TABLE_MAIN.rawValue)) throws(NetlinkError) -> [Route] {
        // ip route show [table T]
        var result: [Route] = []
        try dump(RequestBuilder.dumpRoutes(family: family), operation: "ip route show", onRestart: { result.removeAll() }) { nlh throws(NetlinkError) in
            let header = try familyHeader(nlh, as: rtmsg.self)
            if header.rtm_flags & UInt32(RTM_F_CLONED) != 0 { return }
            let route = try Route(message: nlh)
            if table == nil || route.table == table { result.append(route) }
        }
        return result
    }

    static func describe(_ route: Route) -> String {
        var text = route.isDefault ? "default" : route.destination.network.description
        if let gateway = route.gateway { text += " via \(gateway)" }
        if let oif = route.outputIndex { text += " dev \(oif)" }
        if let table = route.table { text += " table \(table)" }
        return text
    }
}
