import CCurl

/// `EtcdTransport` over libcurl (dlopen()ed on first use, see Sources/CCurl).
///
/// libcurl because Foundation's URLSession on Linux cannot present client
/// certificates, and no maintained Swift etcd v3 client has TLS and txn; curl
/// is a small, mature C library Debian keeps patched. One easy handle is kept
/// for the client's life so consecutive requests reuse the connection.
public final class CurlTransport: EtcdTransport {
    /// Created (and libcurl loaded) by the first request, not before.
    private lazy var handle: UnsafeMutableRawPointer? = hf_curl_easy_init()
    private var started = false
    private let caFile: String?
    private let certFile: String?
    private let keyFile: String?
    /// Replies larger than this are refused (a range over a whole prefix is the largest).
    private let bodyLimit = 64 << 20

    public init(config: EtcdConfig) {
        caFile = config.caFile
        certFile = config.certFile
        keyFile = config.keyFile
    }

    deinit { if started, let handle { hf_curl_easy_cleanup(handle) } }

    public func post(url: String, body: String, timeout: Duration) throws(EtcdTransportError) -> EtcdHTTPResponse {
        started = true
        guard let handle else { throw .libraryMissing("cannot load libcurl.so.4 (is libcurl4 installed?)") }
        let ms = max(1, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        var result = hf_curl_result()
        defer { hf_curl_result_free(&result) }
        hf_curl_post(handle, url, body, ms, ms, caFile, certFile, keyFile, bodyLimit, &result)
        if result.code != CURLE_OK {
            let detail = withUnsafeBytes(of: result.error) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            let message = "\(url): \(detail.isEmpty ? String(cString: hf_curl_strerror(result.code)) : detail)"
            if result.request_sent != 0 && !Self.neverSent(result.code) { throw .maybeSent(message) }
            throw .notSent(message)
        }
        let bytes = result.body.data.map { Array(UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self),
                                                                   count: result.body.length)) } ?? []
        return EtcdHTTPResponse(status: Int(result.status), body: bytes)
    }

    /// Errors that happen before any request byte can reach the server.
    private static func neverSent(_ code: CURLcode) -> Bool {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_URL_MALFORMAT,
             CURLE_UNSUPPORTED_PROTOCOL, CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CIPHER, CURLE_FAILED_INIT:
            true
        default:
            false
        }
    }
}
