#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A CNI error result: what a plugin prints on stdout (with exit status 1)
/// when an operation fails.
///
/// Codes 0-99 are reserved by the spec; the static constructors cover each
/// well-known code so call sites cannot pick the wrong number. Plugin-specific
/// errors use `CNIError(code:msg:details:)` with a code >= 100.
public struct CNIError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var msg: String
    public var details: String

    public init(code: Int, msg: String, details: String = "") {
        self.code = code
        self.msg = msg
        self.details = details
    }

    // MARK: Well-known codes (spec Section 5, "Error")

    public static let codeIncompatibleVersion = 1
    public static let codeUnsupportedField = 2
    public static let codeUnknownContainer = 3
    public static let codeInvalidEnvironment = 4
    public static let codeIOFailure = 5
    public static let codeDecodingFailure = 6
    public static let codeInvalidConfig = 7
    public static let codeTryAgainLater = 11
    public static let codeNotAvailable = 50
    public static let codeLimitedConnectivity = 51
    /// Code for failures that are not `CNIError`s (a Swift error escaping a
    /// plugin, a delegated plugin that crashed without error JSON). 999 is what
    /// the reference `skel` package uses (`types.ErrInternal`), so runtimes and
    /// operators already know it as "internal plugin error".
    public static let codeInternal = 999

    /// Code 1: the config's `cniVersion` is not one we support.
    public static func incompatibleVersion(_ msg: String, details: String = "") -> CNIError {
        CNIError(code: codeIncompatibleVersion, msg: msg, details: details)
    }
    /// Code 2: the message must contain the key and value of the unsupported field.
    public static func unsupportedField(_ msg: String, details: String = "") -> CNIError {
        CNIError(code: codeUnsupportedField, msg: msg, details: details)
    }
    /// Code 3: the runtime need not clean up (no DEL required).
    public static func unknownContainer(_ msg: String, details: String = "") -> CNIError {
        CNIError(code: codeUnknownContainer, msg: msg, details: details)
    }
    /// Code 4: the message must name the invalid variables.
    public static func invalidEnvironment(_ msg: String, details: String = "") -> CNIError {
        CNIError(code: codeInvalidEnvironment, msg: msg, details: details)
    }
    /// Code 5: reading stdin or another I/O step failed.
    public static func ioFailure(_ msg: String, details: String = "") -> CNIError {
        CNIError(code: codeIOFailure, msg: msg, details: details)
    }
    /// Code 6: bytes could not be decoded (malformed JSON, wrong JSON type).
    public static func decodingFailure(_ msg: String, details: String = "") -> CNIError {
        CNIError(code: codeDecodingFailure, msg: msg, details: details)
    }
    /// Code 7: the config decoded but a validation failed.
    public static func invalidConfig(_ msg: String, details: String = "") -> CNIError {
        CNIError(code: codeInvalidConfig, msg: msg, details: details)
    }
    /// Code 11: a transient condition (e.g. a lock deadline); the runtime should retry.
    public static func tryAgainLater(_ msg: String, details: String = "") -> CNIError {
        CNIError(code: codeTryAgainLater, msg: msg, details: details)
    }
    /// Code 50 (STATUS): the plugin cannot service ADD requests.
    public static func notAvailable(_ msg: String, details: String = "") -> CNIError {
        CNIError(code: codeNotAvailable, msg: msg, details: details)
    }
    /// Code 51 (STATUS): not available, and existing containers may have limited connectivity.
    public static func limitedConnectivity(_ msg: String, details: String = "") -> CNIError {
        CNIError(code: codeLimitedConnectivity, msg: msg, details: details)
    }
    /// Code 999: an internal failure that is not one of the spec's conditions.
    public static func `internal`(_ msg: String, details: String = "") -> CNIError {
        CNIError(code: codeInternal, msg: msg, details: details)
    }

    /// Wraps any error: a `CNIError` passes through unchanged (never an error
    /// inside an error), anything else becomes code 999 with its description.
    public init(wrapping error: any Error) {
        if let e = error as? CNIError {
            self = e
        } else {
            self = .internal(String(describing: error))
        }
    }

    /// `msg; details`, like the reference's `Error()`.
    public var description: String { details.isEmpty ? msg : "\(msg); \(details)" }

    /// The error result as JSON: `{"cniVersion":..,"code":..,"details":..,"msg":..}`.
    ///
    /// `details` is always present (the spec lists it as a key of the error
    /// object); the reference omits it when empty, and parsers accept both.
    public func jsonValue(cniVersion: String) -> JSONValue {
        .object([
            "cniVersion": .string(cniVersion),
            "code": .number(Double(code)),
            "msg": .string(msg),
            "details": .string(details),
        ])
    }

    /// The error result encoded for stdout (no trailing newline).
    public func encoded(cniVersion: String = CNIVersion.latest.rawValue) -> Data {
        jsonValue(cniVersion: cniVersion).encoded()
    }
}
