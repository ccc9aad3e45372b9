/// Why a namespace scan could not prove which addresses are live.
///
/// Any of these means the evidence is partial, and a caller must not allocate
/// on it: an address held in the namespace that was not read would look free.
public enum NamespaceScanError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A namespace exists and is not being torn down, but could not be read.
    case unreadable(path: String, reason: String)
    /// More distinct network namespaces than the configured cap.
    case tooManyNamespaces(found: Int, limit: Int)
    /// The deadline passed after reading `read` of `total` namespaces.
    case deadlineExceeded(read: Int, total: Int, limitMs: Int64)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read network namespace \(path): \(reason)"
        case .tooManyNamespaces(let found, let limit):
            "found \(found) network namespaces, more than the scan cap of \(limit) (ipam.kernelScan.maxNamespaces)"
        case .deadlineExceeded(let read, let total, let ms):
            "read \(read) of \(total) network namespaces before the \(ms) ms deadline (ipam.kernelScan.timeoutMs)"
        }
    }
}
