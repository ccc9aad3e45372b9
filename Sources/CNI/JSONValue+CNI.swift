#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
// Every CNI user sees JSONValue as part of the protocol's vocabulary.
@_exported import JSONCore

extension JSONValue {
    /// Parses JSON text; malformed input throws code 6 with the parser's reason.
    public static func decode(_ bytes: Data, what: String = "JSON") throws(CNIError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw .decodingFailure("error decoding \(what)", details: error.description)
        }
    }
}
