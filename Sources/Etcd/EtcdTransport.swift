/// One HTTP POST to one endpoint; the seam between the client's failover and
/// deadline logic (unit-tested with a fake) and libcurl.
public protocol EtcdTransport {
    /// POSTs `body` to `url` and returns the HTTP status and body.
    ///
    /// - Throws: `.notSent` when the request certainly never reached the
    ///   server (connection refused, connect timeout, TLS handshake failure),
    ///   `.maybeSent` when it may have (a timeout or reset after connecting).
    func post(url: String, body: String, timeout: Duration) throws(EtcdTransportError) -> EtcdHTTPResponse
}

/// An HTTP answer from one endpoint.
public struct EtcdHTTPResponse: Sendable, Hashable {
    public var status: Int
    public var body: [UInt8]
    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// A transport failure, split by whether the request may have been received.
public enum EtcdTransportError: Error, Sendable, Hashable {
    case notSent(String)
    case maybeSent(String)
    case libraryMissing(String)
}
