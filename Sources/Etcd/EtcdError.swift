/// Why an etcd request did not give an answer.
///
/// The cases are split by what the caller may conclude about etcd's state,
/// because that is what decides whether a block can be trusted:
/// - `unreachable`: no endpoint received the request; nothing changed.
/// - `outcomeUnknown`: a write may or may not have been applied (a timeout or
///   a dropped connection after the request left, or a server-side timeout).
///   The caller must settle it by reading the key back, never assume failure.
/// - `rejected`: etcd answered and refused; nothing changed.
/// - `malformed`: etcd answered with something this client cannot read.
/// - `unavailable`: libcurl could not be loaded.
public enum EtcdError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreachable(String)
    case outcomeUnknown(String)
    case rejected(code: Int, message: String)
    case malformed(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .unreachable(let m): "etcd unreachable: \(m)"
        case .outcomeUnknown(let m): "etcd request outcome unknown: \(m)"
        case .rejected(let code, let m): "etcd rejected the request (code \(code)): \(m)"
        case .malformed(let m): "etcd reply not understood: \(m)"
        case .unavailable(let m): "etcd client unavailable: \(m)"
        }
    }

    /// True when etcd's state is known not to have changed because of the request.
    public var isDefinite: Bool {
        if case .outcomeUnknown = self { return false }
        return true
    }
}
