import CMnl

/// Checks that a received buffer is a well-framed stream of netlink messages
/// before libmnl walks it.
///
/// libmnl's `mnl_nlmsg_ok` compares `nlmsg_len` as a signed int, so a length
/// of 0xFFFFFFFF passes it: the decoders would then read far past the buffer
/// (they trust `nlmsg_len`), and `mnl_nlmsg_next` would advance by
/// `MNL_ALIGN(0xFFFFFFFF) == 0`, running the same message forever. Found by
/// the fuzz-netlink target (Tests/Fuzz/regressions/fuzz-netlink). The kernel
/// never sends that; a reply we cannot frame is `.malformedReply`, not a
/// read out of bounds.
enum ReplyFraming {
    /// Throws `.malformedReply` unless every message header in
    /// `buffer[0..<length]` has 16 <= nlmsg_len <= the bytes left. Trailing
    /// bytes shorter than a header are ignored, as libmnl does.
    static func check(_ buffer: UnsafeRawPointer, length: Int, operation: String) throws(NetlinkError) {
        let header = MemoryLayout<nlmsghdr>.size
        var offset = 0
        while length - offset >= header {
            let messageLength = Int(buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            guard messageLength >= header, messageLength <= length - offset else {
                throw NetlinkError(operation: operation,
                                   kind: .malformedReply("message at byte \(offset) claims \(messageLength) bytes, \(length - offset) left"))
            }
            offset += (messageLength + 3) & ~3
        }
    }
}
