import CMnl
import Glibc

/// An rtnetlink (NETLINK_ROUTE) session: one method per `ip` verb, in the
/// `NetlinkSocket+*.swift` extensions.
///
/// Contracts:
/// - **Namespace**: the socket talks to the network namespace of the thread
///   that opened it, for its whole life. Open it inside
///   `NetworkNamespace.withEntered` to manage another namespace; it can then be
///   used from anywhere.
/// - **Concurrency**: not Sendable. One socket serves one thread at a time;
///   each request waits for its own ACK or DONE before returning.
/// - **Replies**: libmnl's `mnl_cb_run2` checks every reply's sequence number
///   and port id against the request, so a stale reply can never be taken for
///   the answer to a later request; after a failure mid-dump the socket drains
///   the rest of that dump so the next request starts clean.
/// - **Privilege**: changes need CAP_NET_ADMIN in the socket's namespace.
/// - **Transport**: bytes go through a `NetlinkTransport`: the kernel's by
///   default, a recording mock in tests (`init(transport:)`).
public final class NetlinkSocket {
    /// Receive buffer: large enough for any dump batch the kernel sends
    /// (it sizes batches up to 32 KiB), so MSG_TRUNC means a real problem.
    static let receiveBufferSize = 64 * 1024

    private let transport: any NetlinkTransport
    private var sequence: UInt32
    private let receiveBuffer: UnsafeMutableRawPointer

    /// Opens a NETLINK_ROUTE socket in the calling thread's netns
    /// (`KernelNetlinkTransport`: extended, capped acks and strict checking).
    public convenience init() throws(NetlinkError) {
        self.init(transport: try KernelNetlinkTransport())
    }

    /// A session over `transport`; `firstSequence` fixes the sequence numbers
    /// (the first request gets `firstSequence + 1`), for reproducible tests.
    public init(transport: any NetlinkTransport, firstSequence: UInt32? = nil) {
        self.transport = transport
        sequence = firstSequence ?? UInt32.random(in: 1...UInt32.max / 2)
        // 4 bytes of slack past what recvmsg may fill: libmnl bounds a message's
        // attributes by MNL_ALIGN(nlmsg_len), up to 3 bytes past an unaligned
        // last message (found by fuzz-netlink, regressions/…/unaligned-tail.bin).
        // Not zero-filled up front (64 KiB per socket was a measurable share of
        // an ADD, in instructions and page faults): each receive zeroes the
        // slack after what it got.
        receiveBuffer = .allocate(byteCount: Self.receiveBufferSize + 4, alignment: 8)
    }

    deinit {
        close()
        receiveBuffer.deallocate()
    }

    /// Closes the socket now; later requests fail with EBADF. Idempotent.
    public func close() {
        transport.close()
    }

    /// The socket's file descriptor (for poll or diagnostics), -1 once closed.
    public var fileDescriptor: Int32 { transport.fileDescriptor }

    // MARK: - Request/reply

    /// Sends a request that the kernel acknowledges (NLM_F_ACK) and waits for
    /// the ACK, passing any data replies before it (a GET's answer) to `onReply`.
    /// A kernel NLMSG_ERROR becomes `NetlinkError(kind: .kernel, errno:)`.
    func execute(_ message: NetlinkMessage, operation: String,
                 onReply: ((UnsafePointer<nlmsghdr>) throws(NetlinkError) -> Void)? = nil) throws(NetlinkError) {
        precondition(message.flags & UInt16(NLM_F_ACK) != 0, "execute needs NLM_F_ACK")
        if let onReply {
            try exchange(message, operation: operation, onReply: onReply)
        } else {
            try exchange(message, operation: operation) { _ throws(NetlinkError) in }
        }
    }

    /// Sends an NLM_F_DUMP request and passes every reply to `onReply` until
    /// NLMSG_DONE. A dump the kernel marks interrupted (NLM_F_DUMP_INTR: the
    /// table changed while it was read) is restarted, up to `maxDumpRestarts`
    /// times, so callers never act on an inconsistent snapshot; `onRestart`
    /// runs before each restart so the caller can drop what the interrupted
    /// attempt delivered (otherwise a retried dump would report entries twice).
    /// Many ADDs changing links at once interrupt dumps often, hence the margin.
    static let maxDumpRestarts = 20

    func dump(_ message: NetlinkMessage, operation: String, onRestart: () -> Void,
              onReply: (UnsafePointer<nlmsghdr>) throws(NetlinkError) -> Void) throws(NetlinkError) {
        precondition(message.flags & UInt16(NLM_F_DUMP) == UInt16(NLM_F_DUMP), "dump needs NLM_F_DUMP")
        var attempt = 0
        while true {
            do throws(NetlinkError) {
                try exchange(message, operation: operation, onReply: onReply)
                return
            } catch {
                guard error.kind == .unexpectedReply, error.errno == EINTR, attempt < Self.maxDumpRestarts else { throw error }
                attempt += 1
                onRestart()
            }
        }
    }

    private func nextSequence() -> UInt32 {
        sequence = sequence == UInt32.max ? 1 : sequence + 1
        return sequence
    }

    private func exchange(_ message: NetlinkMessage, operation: String,
                          onReply: (UnsafePointer<nlmsghdr>) throws(NetlinkError) -> Void) throws(NetlinkError) {
        try withoutActuallyEscaping(onReply) { (handler) throws(NetlinkError) in
            try exchange(message, operation: operation, escapingHandler: handler)
        }
    }

    private func exchange(_ message: NetlinkMessage, operation: String,
                          escapingHandler: @escaping (UnsafePointer<nlmsghdr>) throws(NetlinkError) -> Void) throws(NetlinkError) {
        var message = message
        let seq = nextSequence()
        message.sequence = seq
        try transport.send(message.bytes, operation: operation)
        let portID = transport.portID

        let context = ReplyContext(operation: operation, handler: escapingHandler)
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        var controls: [mnl_cb_t?] = [nil, onNoop, onError, onDone, onOverrun]
        while true {
            let received = try receive(operation)
            let rc = withExtendedLifetime(context) {
                controls.withUnsafeMutableBufferPointer {
                    mnl_cb_run2(receiveBuffer, received, seq, portID, onData, opaque,
                                $0.baseAddress, UInt32($0.count))
                }
            }
            if rc == MNL_CB_OK { continue }
            if rc == MNL_CB_STOP { return }
            // rc == -1: who failed? Order matters: our handler, then the kernel, then libmnl.
            let code = Glibc.errno
            if let error = context.handlerError {
                try drain(sequence: seq, operation: operation, current: received)
                throw error
            }
            if context.kernelErrno != 0 {
                throw NetlinkError(operation: operation, kind: .kernel, errno: context.kernelErrno,
                                   kernelMessage: context.kernelMessage)
            }
            if code == EINTR {
                // NLM_F_DUMP_INTR; finish reading this dump before the caller retries.
                try drain(sequence: seq, operation: operation, current: received)
            }
            if code == EBADMSG {
                throw NetlinkError(operation: operation, kind: .malformedReply("short NLMSG_ERROR"), errno: code)
            }
            // ESRCH (wrong port id), EPROTO (wrong sequence number), EINTR (dump interrupted).
            throw NetlinkError(operation: operation, kind: .unexpectedReply, errno: code)
        }
    }

    /// Whether the transport has strict checking on (see
    /// `NetlinkTransport.hasStrictChecking`); filtered dumps refuse without it.
    public var hasStrictChecking: Bool { transport.hasStrictChecking }

    /// One batch from the transport, refused unless libmnl can walk it safely
    /// (`ReplyFraming`), whatever the transport delivered.
    private func receive(_ operation: String) throws(NetlinkError) -> Int {
        let received = try transport.receive(into: receiveBuffer, capacity: Self.receiveBufferSize, operation: operation)
        (receiveBuffer + received).initializeMemory(as: UInt8.self, repeating: 0, count: 4)
        try ReplyFraming.check(receiveBuffer, length: received, operation: operation)
        return received
    }

    /// Reads and discards until the NLMSG_DONE / NLMSG_ERROR that ends request
    /// `sequence`, starting with the batch already in the buffer.
    private func drain(sequence: UInt32, operation: String, current: Int) throws(NetlinkError) {
        var length = current
        while true {
            var remaining = Int32(length)
            var nlh: UnsafePointer<nlmsghdr>? = UnsafePointer(receiveBuffer.assumingMemoryBound(to: nlmsghdr.self))
            while let h = nlh, mnl_nlmsg_ok(h, remaining) {
                if h.pointee.nlmsg_seq == sequence,
                   h.pointee.nlmsg_type == UInt16(NLMSG_DONE) || h.pointee.nlmsg_type == UInt16(NLMSG_ERROR) {
                    return
                }
                // Non-multipart replies (a GET's answer) end with the ACK (NLMSG_ERROR) handled above.
                nlh = UnsafePointer(mnl_nlmsg_next(h, &remaining))
            }
            length = try receive(operation)
        }
    }
}

/// State shared with the C callbacks for one exchange.
private final class ReplyContext {
    let operation: String
    let handler: (UnsafePointer<nlmsghdr>) throws(NetlinkError) -> Void
    var handlerError: NetlinkError?
    var kernelErrno: Int32 = 0
    var kernelMessage: String?

    init(operation: String, handler: @escaping (UnsafePointer<nlmsghdr>) throws(NetlinkError) -> Void) {
        self.operation = operation
        self.handler = handler
    }

    static func from(_ data: UnsafeMutableRawPointer?) -> ReplyContext {
        Unmanaged<ReplyContext>.fromOpaque(data!).takeUnretainedValue()
    }
}

private let onData: mnl_cb_t = { nlh, data in
    let context = ReplyContext.from(data)
    guard let nlh else { return MNL_CB_OK }
    do throws(NetlinkError) {
        try context.handler(nlh)
        return MNL_CB_OK
    } catch {
        context.handlerError = error
        return MNL_CB_ERROR
    }
}

private let onNoop: mnl_cb_t = { _, _ in MNL_CB_OK }

private let onOverrun: mnl_cb_t = { _, _ in
    Glibc.errno = ENOBUFS
    return MNL_CB_ERROR
}

/// NLMSG_ERROR: error 0 is the ACK; otherwise record -error and the extack text.
private let onError: mnl_cb_t = { nlh, data in
    let context = ReplyContext.from(data)
    guard let nlh, Int(nlh.pointee.nlmsg_len) >= MemoryLayout<nlmsghdr>.size + MemoryLayout<nlmsgerr>.size else {
        Glibc.errno = EBADMSG
        return MNL_CB_ERROR
    }
    let payload = UnsafeRawPointer(mnl_nlmsg_get_payload(nlh)!)
    let err = payload.loadUnaligned(as: nlmsgerr.self)
    if err.error == 0 { return MNL_CB_STOP }
    context.kernelErrno = err.error < 0 ? -err.error : err.error
    if nlh.pointee.nlmsg_flags & UInt16(NLM_F_ACK_TLVS) != 0 {
        var offset = MemoryLayout<nlmsgerr>.size
        if nlh.pointee.nlmsg_flags & UInt16(NLM_F_CAPPED) == 0 {
            offset += Int(mnl_align(err.msg.nlmsg_len)) - MemoryLayout<nlmsghdr>.size
        }
        let total = Int(nlh.pointee.nlmsg_len) - MemoryLayout<nlmsghdr>.size
        if offset < total {
            let tlvs = AttributeTable(payload: payload + offset, length: total - offset)
            context.kernelMessage = tlvs.string(Int32(NLMSGERR_ATTR_MSG.rawValue))
        }
    }
    return MNL_CB_ERROR
}

/// NLMSG_DONE: ends a dump; a negative int payload is an error found mid-dump.
private let onDone: mnl_cb_t = { nlh, data in
    let context = ReplyContext.from(data)
    guard let nlh else { return MNL_CB_STOP }
    if Int(nlh.pointee.nlmsg_len) >= MemoryLayout<nlmsghdr>.size + 4 {
        let code = UnsafeRawPointer(mnl_nlmsg_get_payload(nlh)!).loadUnaligned(as: Int32.self)
        if code < 0 {
            context.kernelErrno = -code
            return MNL_CB_ERROR
        }
    }
    return MNL_CB_STOP
}
