#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// "Decode loosely, then validate", the pattern of every Holdfast config
/// (`IPAMConfig`, `OperationsConfig`, the bridge plugin's `BridgeConfig`).
///
/// Why: a strict `Decodable` fails with a generic "data corrupted" and stops
/// at the first bad key. Decoding a `Raw` shape with every field optional
/// first, then validating field by field, lets each config name the exact
/// field and the accepted range in its typed error (CNI error 7), so an
/// operator can fix the config without guessing.
public enum LooseDecoding {
    /// Decodes the loose `Raw` shape from `json`; a syntax or type error becomes
    /// the caller's typed error via `failure`.
    public static func decode<Raw: Decodable, Failure: Error>(
        _ type: Raw.Type, from json: Data, failure: (any Error) -> Failure
    ) throws(Failure) -> Raw {
        do {
            return try JSONDecoder().decode(Raw.self, from: json)
        } catch {
            throw failure(error)
        }
    }

    /// A `DecodingError` as "at ranges[0][1].subnet: ..." (the coding path first).
    public static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            let path = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return "\(path.isEmpty ? "" : "at \(path.dropFirst(path.hasPrefix(".") ? 1 : 0)): ")\(c.debugDescription)"
        case DecodingError.keyNotFound(let k, _):
            return "missing key \(k.stringValue)"
        default:
            return "\(error)"
        }
    }
}
