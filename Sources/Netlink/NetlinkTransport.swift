import CMnl
import Glibc

/// How a `NetlinkSocket` moves bytes: send one request, receive one batch of
/// replies. The kernel transport (`KernelNetlinkTransport`) is a libmnl
/// NETLINK_ROUTE socket; tests inject a mock that records every request and
/// replays canned replies, so request building *and* reply parsing are tested
/// without root or a kernel.
///
/// Sequence numbers and port ids are checked by `NetlinkSocket` (libmnl's
/// `mnl_cb_run2`) whatever the transport, so a mock must answer with the
/// request's sequence number, exactly as the kernel does.
public protocol NetlinkTransport: AnyObject {
    /// The local port id replies are addressed to (0 accepts any).
    var portID: UInt32 { get }
    /// The underlying descriptor for poll or diagnostics; -1 when there is none.
    var fileDescriptor: Int32 { get }
    /// Sends one complete request. Throws `NetlinkError` on failure.
    func send(_ bytes: [UInt8], operation: String) throws(NetlinkError)
    /// Receives one datagram into `buffer` (capacity `capacity`) and returns its
    /// length. A datagram larger than `capacity` throws `.truncatedReply`.
    func receive(into buffer: UnsafeMutableRawPointer, capacity: Int, operation: String) throws(NetlinkError) -> Int
    /// Releases the transport; later calls fail with EBADF. Idempotent.
    func close()
    /// Whether the kernel honours dump filters (NETLINK_GET_STRICT_CHK took).
    /// Without it the kernel ignores IFA_TARGET_NETNSID and answers for the
    /// socket's own namespace, so dumps that depend on a filter refuse to run.
    var hasStrictChecking: Bool { get }
}

extension NetlinkTransport {
    /// A transport that does not say is taken to honour filters (a mock
    /// answers whatever its test scripted).
    public var hasStrictChecking: Bool { true }
}
