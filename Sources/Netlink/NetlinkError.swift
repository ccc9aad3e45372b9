import Glibc

/// A failed netlink operation.
///
/// Every failure names the operation (`"ip link add br0 type bridge"`) and, when
/// the kernel or a syscall refused, the errno, so callers can match `EEXIST` or
/// `ENODEV` instead of guessing from a message. Failures that are not an errno
/// (a reply that does not parse, a reply for another request) have their own
/// `kind` and `errno == 0`.
public struct NetlinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, beyond the errno.
    public enum Kind: Sendable, Equatable {
        /// The kernel answered NLMSG_ERROR (or NLMSG_DONE) with a negative errno.
        case kernel
        /// A syscall on our side failed (socket, send, recv, open, setns...).
        case system
        /// A reply arrived with a wrong sequence number or port id, or the dump
        /// was interrupted too often; `errno` holds libmnl's code (EPROTO, ESRCH, EINTR).
        case unexpectedReply
        /// A reply was shorter than its headers claim or lacked a required attribute.
        case malformedReply(String)
        /// A reply did not fit the receive buffer (MSG_TRUNC).
        case truncatedReply
        /// The request was rejected before it was sent (e.g. a name longer than IFNAMSIZ-1).
        case invalidArgument(String)
        /// `NetworkNamespace.open(path:)` was given something that is not a network namespace.
        case notANetworkNamespace(path: String)
        /// A dump whose filter the kernel would silently ignore, because the socket
        /// could not enable strict checking (NETLINK_GET_STRICT_CHK), was not sent.
        case strictCheckingUnavailable
    }

    /// The `ip`-style description of what was attempted.
    public var operation: String
    public var kind: Kind
    /// The errno from the kernel or the failing syscall; 0 for non-errno failures.
    public var errno: Int32
    /// The kernel's extended-ack text (NLMSGERR_ATTR_MSG), when it sent one.
    public var kernelMessage: String?

    public init(operation: String, kind: Kind, errno: Int32 = 0, kernelMessage: String? = nil) {
        self.operation = operation
        self.kind = kind
        self.errno = errno
        self.kernelMessage = kernelMessage
    }

    /// The object already exists (EEXIST): a retried ADD can treat this as "already done".
    public var isExists: Bool { kind == .kernel && errno == EEXIST }
    /// The device does not exist (ENODEV): DEL of a gone link is a success.
    public var isNoDevice: Bool { kind == .kernel && errno == ENODEV }
    /// The object is not there: ENOENT, ESRCH (route), EADDRNOTAVAIL (address) or ENODEV (link).
    public var isNotFound: Bool {
        kind == .kernel && [ENOENT, ESRCH, EADDRNOTAVAIL, ENODEV].contains(errno)
    }

    public var description: String {
        var text = "\(operation): "
        switch kind {
        case .kernel, .system, .unexpectedReply:
            text += String(cString: strerror(errno)) + " (errno \(errno))"
            if kind == .unexpectedReply { text += ", unexpected reply" }
        case .malformedReply(let detail): text += "malformed reply: \(detail)"
        case .truncatedReply: text += "reply truncated"
        case .invalidArgument(let detail): text += "invalid argument: \(detail)"
        case .notANetworkNamespace(let path): text += "\(path) is not a network namespace"
        case .strictCheckingUnavailable:
            text += "strict checking (NETLINK_GET_STRICT_CHK) is off, so the kernel would ignore the namespace filter and answer for the host; refused"
        }
        if let kernelMessage { text += " [\(kernelMessage)]" }
        return text
    }

    /// An error for a failed syscall, capturing the current errno.
    static func system(_ operation: String, errno code: Int32 = Glibc.errno) -> NetlinkError {
        NetlinkError(operation: operation, kind: .system, errno: code)
    }
}
