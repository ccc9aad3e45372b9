import CMnl

/// The attributes of one message (or one nest), indexed by type, as libmnl's
/// `mnl_attr_parse` examples build their `tb[]` arrays.
///
/// The pointers point into the receive buffer, so a table is only valid inside
/// the reply callback that produced it; the typed getters copy values out.
/// Getters return nil for an attribute that is absent or too short, so a
/// malformed attribute is never read past its end.
struct AttributeTable {
    static let capacity = 128
    private var slots: [UnsafePointer<nlattr>?]

    /// Parses the attributes after the family header of `message` (`offset` = its size).
    init(message: UnsafePointer<nlmsghdr>, offset: Int) throws(NetlinkError) {
        slots = Array(repeating: nil, count: Self.capacity)
        guard Int(message.pointee.nlmsg_len) >= MemoryLayout<nlmsghdr>.size + offset else {
            throw NetlinkError(operation: "parse reply", kind: .malformedReply("message shorter than its family header"))
        }
        let rc = slots.withUnsafeMutableBufferPointer {
            mnl_attr_parse(message, UInt32(offset), collectAttribute, UnsafeMutableRawPointer($0.baseAddress))
        }
        guard rc >= MNL_CB_STOP else {
            throw NetlinkError(operation: "parse reply", kind: .malformedReply("bad attribute"))
        }
    }

    /// Parses a nested attribute's children.
    init(nested attribute: UnsafePointer<nlattr>) {
        slots = Array(repeating: nil, count: Self.capacity)
        _ = slots.withUnsafeMutableBufferPointer {
            mnl_attr_parse_nested(attribute, collectAttribute, UnsafeMutableRawPointer($0.baseAddress))
        }
    }

    /// Parses attributes in a raw payload (the TLVs after an nlmsgerr).
    init(payload: UnsafeRawPointer, length: Int) {
        slots = Array(repeating: nil, count: Self.capacity)
        _ = slots.withUnsafeMutableBufferPointer {
            mnl_attr_parse_payload(payload, length, collectAttribute, UnsafeMutableRawPointer($0.baseAddress))
        }
    }

    subscript(type: some BinaryInteger) -> UnsafePointer<nlattr>? {
        type >= 0 && Int(type) < Self.capacity ? slots[Int(type)] : nil
    }

    private func payload(_ type: some BinaryInteger, minimum: Int) -> UnsafeRawPointer? {
        guard let a = self[type], Int(mnl_attr_get_payload_len(a)) >= minimum else { return nil }
        return UnsafeRawPointer(mnl_attr_get_payload(a))
    }

    func u8(_ type: some BinaryInteger) -> UInt8? { payload(type, minimum: 1)?.load(as: UInt8.self) }
    func u16(_ type: some BinaryInteger) -> UInt16? { payload(type, minimum: 2)?.loadUnaligned(as: UInt16.self) }
    func u32(_ type: some BinaryInteger) -> UInt32? { payload(type, minimum: 4)?.loadUnaligned(as: UInt32.self) }
    func s32(_ type: some BinaryInteger) -> Int32? { u32(type).map { Int32(bitPattern: $0) } }

    /// A string attribute, up to its first NUL.
    func string(_ type: some BinaryInteger) -> String? {
        guard let bytes = self.bytes(type) else { return nil }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    func bytes(_ type: some BinaryInteger) -> [UInt8]? {
        guard let a = self[type] else { return nil }
        let length = Int(mnl_attr_get_payload_len(a))
        return Array(UnsafeRawBufferPointer(start: mnl_attr_get_payload(a), count: length))
    }

    func nested(_ type: some BinaryInteger) -> AttributeTable? { self[type].map { AttributeTable(nested: $0) } }
}

/// mnl_attr_parse callback: stores each attribute at its type in the table.
private let collectAttribute: mnl_attr_cb_t = { attribute, data in
    guard let attribute, let data else { return MNL_CB_ERROR }
    let type = Int(mnl_attr_get_type(attribute))
    if type < AttributeTable.capacity {
        data.assumingMemoryBound(to: UnsafePointer<nlattr>?.self)[type] = attribute
    }
    return MNL_CB_OK
}

/// The family header that follows an nlmsghdr, read without alignment assumptions.
func familyHeader<T>(_ message: UnsafePointer<nlmsghdr>, as type: T.Type) throws(NetlinkError) -> T {
    guard Int(message.pointee.nlmsg_len) >= MemoryLayout<nlmsghdr>.size + MemoryLayout<T>.size else {
        throw NetlinkError(operation: "parse reply", kind: .malformedReply("message shorter than \(T.self)"))
    }
    return UnsafeRawPointer(mnl_nlmsg_get_payload(message)).loadUnaligned(as: T.self)
}

/// Calls `body` for every child of a nest, including repeated types that a
/// table would collapse (IFLA_AF_SPEC lists one IFLA_BRIDGE_VLAN_INFO per VLAN).
func forEachAttribute(in nest: UnsafePointer<nlattr>,
                      _ body: (Int, UnsafeRawBufferPointer) throws(NetlinkError) -> Void) throws(NetlinkError) {
    var children: [UnsafePointer<nlattr>] = []
    let rc = withUnsafeMutablePointer(to: &children) {
        mnl_attr_parse_nested(nest, appendAttribute, UnsafeMutableRawPointer($0))
    }
    guard rc >= MNL_CB_STOP else {
        throw NetlinkError(operation: "parse reply", kind: .malformedReply("bad nested attribute"))
    }
    for child in children {
        try body(Int(mnl_attr_get_type(child)),
                 UnsafeRawBufferPointer(start: mnl_attr_get_payload(child), count: Int(mnl_attr_get_payload_len(child))))
    }
}

private let appendAttribute: mnl_attr_cb_t = { attribute, data in
    guard let attribute, let data else { return MNL_CB_ERROR }
    data.assumingMemoryBound(to: [UnsafePointer<nlattr>].self).pointee.append(attribute)
    return MNL_CB_OK
}
