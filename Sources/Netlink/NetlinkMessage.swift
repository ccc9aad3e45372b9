import CMnl

/// One finished netlink request: the exact bytes that go to the kernel.
///
/// Requests are built into this value (by `RequestBuilder`) before any socket is
/// involved, so tests can compare them byte-for-byte with golden hex and the
/// socket only has to stamp a fresh sequence number and send.
public struct NetlinkMessage: Sendable, Hashable {
    /// The whole message, `nlmsghdr` first, in host byte order as the kernel expects.
    public private(set) var bytes: [UInt8]

    /// A message from raw bytes (a recorded request, a canned reply).
    public init(bytes: [UInt8]) {
        precondition(bytes.count >= MemoryLayout<nlmsghdr>.size)
        self.bytes = bytes
    }

    /// `nlmsg_type` (RTM_NEWLINK, ...).
    public var type: UInt16 { field(at: 4) }
    /// `nlmsg_flags` (NLM_F_REQUEST | NLM_F_ACK | ...).
    public var flags: UInt16 { field(at: 6) }
    /// `nlmsg_seq`; the socket overwrites it with a fresh number before sending.
    public var sequence: UInt32 {
        get { field(at: 8) }
        set { withUnsafeBytes(of: newValue) { bytes.replaceSubrange(8..<12, with: $0) } }
    }

    /// Lowercase hex of the bytes, for golden tests and debugging.
    public var hex: String {
        bytes.map { b in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }.joined()
    }

    private func field<T: FixedWidthInteger>(at offset: Int) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
}

/// Builds one message with libmnl's `mnl_nlmsg_*` / `mnl_attr_*` calls.
///
/// A class because libmnl writes through a stable buffer pointer. The buffer is
/// far larger than any request we build (names are at most 15 bytes); a
/// precondition guards the bound instead of a silent truncation.
///
/// Public so `NetlinkTesting` can build canned kernel replies with the same
/// writer as the requests.
public final class MessageWriter {
    private static let capacity = 8192
    private let buffer: UnsafeMutableRawPointer
    public let header: UnsafeMutablePointer<nlmsghdr>

    /// Starts a message of `type` with `flags` (NLM_F_REQUEST is always added).
    public init(type: some BinaryInteger, flags: Int32) {
        buffer = .allocate(byteCount: Self.capacity, alignment: 8)
        // Not all 8 KiB zeroed up front (ten requests per ADD made that a
        // measurable share): `reserve` zeroes the bytes each put is about to
        // use, since this libmnl leaves attribute padding as it finds it.
        header = mnl_nlmsg_put_header(buffer)
        header.pointee.nlmsg_type = UInt16(type)
        header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | flags)
    }

    deinit { buffer.deallocate() }

    private func reserve(_ payload: Int) {
        let length = Int(header.pointee.nlmsg_len)
        let needed = 4 + Int(mnl_align(UInt32(payload)))
        precondition(length + needed <= Self.capacity, "netlink request exceeds \(Self.capacity) bytes")
        (buffer + length).initializeMemory(as: UInt8.self, repeating: 0, count: needed)
    }

    /// Appends the family header (ifinfomsg, ifaddrmsg, rtmsg...) right after nlmsghdr.
    public func extraHeader<T>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        let p = mnl_nlmsg_put_extra_header(header, MemoryLayout<T>.size)!
        withUnsafeBytes(of: value) { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// Appends a raw struct inside the current nest (VETH_INFO_PEER starts with an ifinfomsg).
    public func raw<T>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        let tail = mnl_nlmsg_get_payload_tail(header)!
        let size = Int(mnl_align(UInt32(MemoryLayout<T>.size)))
        tail.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        withUnsafeBytes(of: value) { tail.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        header.pointee.nlmsg_len += UInt32(size)
    }

    public func u8(_ type: some BinaryInteger, _ value: UInt8) { reserve(1); mnl_attr_put_u8(header, UInt16(type), value) }
    public func u16(_ type: some BinaryInteger, _ value: UInt16) { reserve(2); mnl_attr_put_u16(header, UInt16(type), value) }
    public func u32(_ type: some BinaryInteger, _ value: UInt32) { reserve(4); mnl_attr_put_u32(header, UInt16(type), value) }
    public func s32(_ type: some BinaryInteger, _ value: Int32) { u32(type, UInt32(bitPattern: value)) }
    /// A NUL-terminated string attribute (IFLA_IFNAME, IFLA_INFO_KIND).
    public func string(_ type: some BinaryInteger, _ value: String) {
        reserve(value.utf8.count + 1)
        mnl_attr_put_strz(header, UInt16(type), value)
    }
    public func bytes(_ type: some BinaryInteger, _ value: [UInt8]) {
        reserve(value.count)
        value.withUnsafeBytes { mnl_attr_put(header, UInt16(type), $0.count, $0.baseAddress) }
    }

    /// A nested attribute; libmnl marks it NLA_F_NESTED.
    public func nest(_ type: some BinaryInteger, _ body: () -> Void) {
        reserve(0)
        let start = mnl_attr_nest_start(header, UInt16(type))
        body()
        mnl_attr_nest_end(header, start)
    }

    public func finish() -> NetlinkMessage {
        NetlinkMessage(bytes: Array(UnsafeRawBufferPointer(start: buffer, count: Int(header.pointee.nlmsg_len))))
    }
}

/// NLMSG_ALIGN / MNL_ALIGN, which Swift cannot import as a macro.
@inline(__always) func mnl_align(_ length: UInt32) -> UInt32 { (length + 3) & ~3 }
