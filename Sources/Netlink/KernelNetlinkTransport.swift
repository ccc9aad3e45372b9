import CMnl
import CMnlLazy
import Glibc

/// The real transport: a bound NETLINK_ROUTE socket (close-on-exec) in the
/// network namespace of the thread that opened it.
public final class KernelNetlinkTransport: NetlinkTransport {
    private var socket: OpaquePointer?
    public let portID: UInt32

    /// Opens and binds the socket and turns on extended acks (the kernel's error
    /// text lands in `NetlinkError.kernelMessage`), capped acks (errors do not
    /// echo our request) and strict checking (dump filters such as an ifindex or
    /// IFA_TARGET_NETNSID are honoured by the kernel, not silently ignored).
    public convenience init() throws(NetlinkError) {
        try self.init(socketOptions: [NETLINK_EXT_ACK, NETLINK_CAP_ACK, NETLINK_GET_STRICT_CHK])
    }

    /// Whether `NETLINK_GET_STRICT_CHK` took.
    public private(set) var hasStrictChecking = false

    /// Opens the socket with exactly these boolean `SOL_NETLINK` options
    /// (tests leave out strict checking to see filtered dumps refuse).
    public init(socketOptions: [Int32]) throws(NetlinkError) {
        guard holdfast_mnl_load() == 0 else {
            let reason = holdfast_mnl_load_error().map { String(cString: $0) } ?? "unknown error"
            throw .system("loading libmnl.so.0 (\(reason))", errno: ELIBACC)
        }
        guard let nl = mnl_socket_open2(NETLINK_ROUTE, Int32(SOCK_CLOEXEC.rawValue)) else {
            throw .system("mnl_socket_open(NETLINK_ROUTE)")
        }
        guard mnl_socket_bind(nl, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let e = NetlinkError.system("mnl_socket_bind")
            mnl_socket_close(nl)
            throw e
        }
        var one: Int32 = 1
        for option in socketOptions {
            // Best effort: all exist since 4.20; without the acks errors are just less
            // detailed; without strict checking, filtered dumps refuse (hasStrictChecking).
            let ok = mnl_socket_setsockopt(nl, option, &one, socklen_t(MemoryLayout<Int32>.size)) == 0
            if option == NETLINK_GET_STRICT_CHK { hasStrictChecking = ok }
        }
        socket = nl
        portID = mnl_socket_get_portid(nl)
    }

    deinit { close() }

    public var fileDescriptor: Int32 { socket.map { mnl_socket_get_fd($0) } ?? -1 }

    public func close() {
        if let socket { mnl_socket_close(socket) }
        socket = nil
    }

    public func send(_ bytes: [UInt8], operation: String) throws(NetlinkError) {
        guard let socket else { throw .system(operation, errno: EBADF) }
        let sent = bytes.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, $0.count) }
        guard sent == bytes.count else { throw .system("\(operation): sendto") }
    }

    public func receive(into buffer: UnsafeMutableRawPointer, capacity: Int, operation: String) throws(NetlinkError) -> Int {
        guard let socket else { throw .system(operation, errno: EBADF) }
        while true {
            let n = mnl_socket_recvfrom(socket, buffer, capacity)
            if n >= 0 { return n }
            if Glibc.errno == EINTR { continue }
            if Glibc.errno == ENOSPC {  // libmnl reports MSG_TRUNC as ENOSPC
                throw NetlinkError(operation: operation, kind: .truncatedReply, errno: ENOSPC)
            }
            throw .system("\(operation): recvmsg")
        }
    }
}
