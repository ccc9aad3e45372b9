#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A lean etcd v3 client over the JSON gateway: range, put, delete and txn,
/// the only calls cluster mode needs.
///
/// Contracts:
/// - **Deadline.** Each call has one deadline (`EtcdConfig.timeout`) across
///   every endpoint it tries.
/// - **Failover.** An endpoint that certainly did not receive the request
///   (refused, unreachable, TLS failure) is skipped for the next one. Reads
///   also move on after an ambiguous failure, since reading twice is harmless.
/// - **Writes never guess.** A write that may have reached etcd but gave no
///   answer throws `.outcomeUnknown` instead of being retried elsewhere or
///   reported as failed: the caller settles it by reading the key back.
/// - Not thread-safe: one client per thread (a plugin run uses one).
public final class EtcdClient {
    public let config: EtcdConfig
    private let transport: any EtcdTransport
    /// The endpoint that answered last; the next call starts there.
    private var preferred = 0

    /// A client over libcurl. No library is loaded until the first request.
    public convenience init(config: EtcdConfig) {
        self.init(config: config, transport: CurlTransport(config: config))
    }

    public init(config: EtcdConfig, transport: any EtcdTransport) {
        self.config = config
        self.transport = transport
    }

    /// Reads one key (or, with `prefix`, every key under it).
    public func range(_ key: String, prefix: Bool = false, limit: Int? = nil) throws(EtcdError) -> EtcdRangeResult {
        let reply: EtcdWire.RangeResponse = try call("/v3/kv/range", EtcdWire.RangeRequest(key: key, prefix: prefix, limit: limit),
                                                    idempotent: true)
        return try reply.typed()
    }

    /// Reads one key; nil if it does not exist.
    public func get(_ key: String) throws(EtcdError) -> EtcdKeyValue? {
        try range(key).kvs.first
    }

    /// Writes one key unconditionally. Returns the revision of the write.
    @discardableResult
    public func put(_ key: String, _ value: String) throws(EtcdError) -> Int64 {
        let reply: EtcdWire.PutResponse = try call("/v3/kv/put", EtcdWire.PutRequest(key: key, value: value), idempotent: false)
        return EtcdWire.int(reply.header?.revision)
    }

    /// Deletes one key (or every key under a prefix). Returns how many went.
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false) throws(EtcdError) -> Int64 {
        let reply: EtcdWire.DeleteRangeResponse = try call("/v3/kv/deleterange", EtcdWire.DeleteRangeRequest(key: key, prefix: prefix),
                                                          idempotent: false)
        return EtcdWire.int(reply.deleted)
    }

    /// Runs a transaction. A txn with no write operations is retried like a read.
    public func txn(_ txn: EtcdTxn) throws(EtcdError) -> EtcdTxnResult {
        let writes = (txn.success + txn.failure).contains { if case .range = $0 { false } else { true } }
        let reply: EtcdWire.TxnResponse = try call("/v3/kv/txn", EtcdWire.TxnRequest(txn), idempotent: !writes)
        return try reply.typed()
    }

    // MARK: - One call with failover

    /// gRPC codes with which etcd refuses a request before applying anything:
    /// InvalidArgument, NotFound, AlreadyExists, PermissionDenied,
    /// FailedPrecondition, OutOfRange, Unimplemented, Unauthenticated.
    /// Anything else on a write (Unavailable "no leader", DeadlineExceeded
    /// "request timed out", Unknown "leader changed") may still commit.
    static let definiteRefusals: Set<Int> = [3, 5, 6, 7, 9, 11, 12, 16]

    private func call<Request: Encodable, Reply: Decodable>(_ path: String, _ request: Request,
                                                            idempotent: Bool) throws(EtcdError) -> Reply {
        guard !config.endpoints.isEmpty else { throw .unreachable("no endpoints configured") }
        let body: String
        do { body = String(decoding: try JSONEncoder().encode(request), as: UTF8.self) } catch {
            throw .malformed("cannot encode request: \(error)")
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: config.timeout)
        var failures: [String] = []
        let count = config.endpoints.count
        for step in 0..<count {
            let index = (preferred + step) % count
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else { break }
            let url = Self.join(config.endpoints[index], path)
            let response: EtcdHTTPResponse
            do {
                response = try transport.post(url: url, body: body, timeout: remaining)
            } catch {
                switch error {
                case .libraryMissing(let m): throw .unavailable(m)
                case .notSent(let m): failures.append(m); continue
                case .maybeSent(let m):
                    if idempotent { failures.append(m); continue }
                    throw .outcomeUnknown(m)
                }
            }
            if response.status == 200 {
                preferred = index
                do { return try JSONDecoder().decode(Reply.self, from: Data(response.body)) } catch {
                    throw .malformed("\(url): \(error)")
                }
            }
            let detail = try? JSONDecoder().decode(EtcdWire.ErrorBody.self, from: Data(response.body))
            let message = "\(url): HTTP \(response.status): "
                + (detail?.message ?? detail?.error ?? String(decoding: response.body.prefix(200), as: UTF8.self))
            if let code = detail?.code, Self.definiteRefusals.contains(code) {
                throw .rejected(code: code, message: message)
            }
            if detail?.code == nil, (400..<500).contains(response.status) {
                // Not a gRPC error at all (a wrong URL or a proxy): nothing was applied.
                throw .rejected(code: 0, message: message)
            }
            if idempotent { failures.append(message); continue }
            throw .outcomeUnknown(message)
        }
        if failures.isEmpty { failures.append("deadline of \(config.timeout) passed") }
        throw .unreachable(failures.joined(separator: "; "))
    }

    private static func join(_ base: String, _ path: String) -> String {
        base.hasSuffix("/") ? String(base.dropLast()) + path : base + path
    }
}
