#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The VERSION answer: `{"cniVersion": <input's>, "supportedVersions": [...]}`,
/// plus `"holdfast": <release>` when the plugin says which release it is.
///
/// The spec (VERSION Success) lists the keys a plugin must output and forbids
/// none; libcni decodes the answer into a struct and ignores other keys, so the
/// extra key tells an operator which release answered without changing what a
/// runtime reads.
public struct VersionResult: Sendable, Hashable {
    /// Echoes the request's `cniVersion` (spec Section 5), even one we do not
    /// support: the runtime is asking what we support, not telling us.
    public var cniVersion: String
    public var supportedVersions: [String]
    /// The Holdfast release, output as `"holdfast"`; nil leaves the key out.
    public var holdfastVersion: String?

    public init(cniVersion: String = CNIVersion.latest.rawValue,
                supportedVersions: [String] = CNIVersion.supportedStrings, holdfastVersion: String? = nil) {
        self.cniVersion = cniVersion
        self.supportedVersions = supportedVersions
        self.holdfastVersion = holdfastVersion
    }

    public var jsonValue: JSONValue {
        var fields: [String: JSONValue] = [
            "cniVersion": .string(cniVersion), "supportedVersions": .array(supportedVersions.map(JSONValue.string)),
        ]
        if let holdfastVersion { fields["holdfast"] = .string(holdfastVersion) }
        return .object(fields)
    }

    public func encoded() -> Data { jsonValue.encoded() }
}
