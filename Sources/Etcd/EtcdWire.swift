#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The JSON shapes of etcd's gRPC gateway (`/v3/kv/*`), in its proto field
/// names: keys and values are base64, 64-bit integers are decimal strings, and
/// fields at their zero value are left out of replies.
enum EtcdWire {
    static func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
    static func b64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    static func unb64(_ s: String?) throws(EtcdError) -> String {
        guard let s else { return "" }
        guard let d = Data(base64Encoded: s) else { throw .malformed("invalid base64 \(s.prefix(40))") }
        return String(decoding: d, as: UTF8.self)
    }

    /// The end of the range of keys that start with `prefix`: the prefix with
    /// its last byte incremented (bytes of 0xff are dropped first), or "\0"
    /// (every key) when nothing is left.
    static func prefixEnd(_ prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0]
    }

    struct RangeRequest: Encodable {
        var key: String
        var range_end: String?
        var limit: String?
        init(key: String, prefix: Bool, limit: Int? = nil) {
            self.key = b64(key)
            range_end = prefix ? b64(prefixEnd(key)) : nil
            self.limit = limit.map(String.init)
        }
    }

    struct PutRequest: Encodable {
        var key: String
        var value: String
        init(key: String, value: String) {
            self.key = b64(key)
            self.value = b64(value)
        }
    }

    struct DeleteRangeRequest: Encodable {
        var key: String
        var range_end: String?
        init(key: String, prefix: Bool) {
            self.key = b64(key)
            range_end = prefix ? b64(prefixEnd(key)) : nil
        }
    }

    struct Compare: Encodable {
        var key: String
        var target: String
        var result: String
        var create_revision: String?
        var mod_revision: String?
        var version: String?
        var value: String?
        init(_ c: EtcdCompare) {
            key = b64(c.key)
            result = c.result.rawValue
            switch c.target {
            case .createRevision(let r): target = "CREATE"; create_revision = String(r)
            case .modRevision(let r): target = "MOD"; mod_revision = String(r)
            case .version(let v): target = "VERSION"; version = String(v)
            case .value(let v): target = "VALUE"; value = b64(v)
            }
        }
    }

    struct RequestOp: Encodable {
        var request_range: RangeRequest?
        var request_put: PutRequest?
        var request_delete_range: DeleteRangeRequest?
        init(_ op: EtcdOperation) {
            switch op {
            case .put(let k, let v): request_put = PutRequest(key: k, value: v)
            case .range(let k, let p): request_range = RangeRequest(key: k, prefix: p)
            case .delete(let k, let p): request_delete_range = DeleteRangeRequest(key: k, prefix: p)
            }
        }
    }

    struct TxnRequest: Encodable {
        var compare: [Compare]
        var success: [RequestOp]
        var failure: [RequestOp]
        init(_ t: EtcdTxn) {
            compare = t.compare.map(Compare.init)
            success = t.success.map(RequestOp.init)
            failure = t.failure.map(RequestOp.init)
        }
    }

    struct Header: Decodable { var revision: String? }

    struct KeyValue: Decodable {
        var key: String?
        var value: String?
        var create_revision: String?
        var mod_revision: String?
        var version: String?
        func typed() throws(EtcdError) -> EtcdKeyValue {
            EtcdKeyValue(key: try unb64(key), value: try unb64(value), createRevision: int(create_revision),
                         modRevision: int(mod_revision), version: int(version))
        }
    }

    struct RangeResponse: Decodable {
        var header: Header?
        var kvs: [KeyValue]?
        var more: Bool?
        func typed() throws(EtcdError) -> EtcdRangeResult {
            var out: [EtcdKeyValue] = []
            for kv in kvs ?? [] { out.append(try kv.typed()) }
            return EtcdRangeResult(kvs: out, revision: int(header?.revision), more: more ?? false)
        }
    }

    struct PutResponse: Decodable { var header: Header? }
    struct DeleteRangeResponse: Decodable {
        var header: Header?
        var deleted: String?
    }

    struct ResponseOp: Decodable {
        var response_range: RangeResponse?
        var response_put: PutResponse?
        var response_delete_range: DeleteRangeResponse?
    }

    struct TxnResponse: Decodable {
        var header: Header?
        var succeeded: Bool?
        var responses: [ResponseOp]?
        func typed() throws(EtcdError) -> EtcdTxnResult {
            var out: [EtcdOperationResult] = []
            for r in responses ?? [] {
                if let range = r.response_range { out.append(.range(try range.typed().kvs)) }
                else if let d = r.response_delete_range { out.append(.delete(deleted: int(d.deleted))) }
                else { out.append(.put) }
            }
            return EtcdTxnResult(succeeded: succeeded ?? false, revision: int(header?.revision), responses: out)
        }
    }

    /// A gateway error body: `{"error": "...", "code": 14, "message": "..."}`.
    struct ErrorBody: Decodable {
        var error: String?
        var code: Int?
        var message: String?
    }

    static func int(_ s: String?) -> Int64 { s.flatMap { Int64($0) } ?? 0 }
}
