import CMnl
import Glibc
import Netlink

/// A transport that records every request and replays canned replies, so a
/// `NetlinkSocket` is tested without root or a kernel (the approach of
/// apple/containerization's netlink tests).
///
/// Each request pops the next script: a list of datagrams, each a list of
/// messages. The mock stamps every reply with the request's sequence number,
/// as the kernel does, unless `stampSequence` is false (to test that the
/// socket rejects a stale reply).
public final class MockNetlinkTransport: NetlinkTransport {
    public var portID: UInt32 = 0

    public init() {}
    public var fileDescriptor: Int32 { closed ? -1 : 99 }
    public private(set) var requests: [NetlinkMessage] = []
    private var scripts: [[[UInt8]]] = []
    private var pending: [[UInt8]] = []
    public private(set) var closed = false
    public var stampSequence = true

    /// Queues the replies to the next request, one argument per datagram (a
    /// datagram may hold several messages concatenated).
    public func reply(_ datagrams: [UInt8]...) {
        scripts.append(datagrams)
    }

    public func send(_ bytes: [UInt8], operation: String) throws(NetlinkError) {
        guard !closed else { throw NetlinkError(operation: operation, kind: .system, errno: EBADF) }
        let request = NetlinkMessage(bytes: bytes)
        requests.append(request)
        let script = scripts.isEmpty ? [] : scripts.removeFirst()
        pending += script.map { stampSequence ? Self.stamp($0, sequence: request.sequence) : $0 }
    }

    public func receive(into buffer: UnsafeMutableRawPointer, capacity: Int, operation: String) throws(NetlinkError) -> Int {
        guard !closed else { throw NetlinkError(operation: operation, kind: .system, errno: EBADF) }
        guard !pending.isEmpty else {
            // A real socket would block forever: fail loudly instead.
            throw NetlinkError(operation: operation, kind: .system, errno: EAGAIN)
        }
        let datagram = pending.removeFirst()
        guard datagram.count <= capacity else { throw NetlinkError(operation: operation, kind: .truncatedReply, errno: ENOSPC) }
        datagram.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return datagram.count
    }

    public func close() { closed = true }

    /// Writes `sequence` into every message of `datagram`.
    public static func stamp(_ datagram: [UInt8], sequence: UInt32) -> [UInt8] {
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
