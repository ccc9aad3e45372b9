#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The VERSION answer: `{"cniVersion": <input's>, "supportedVersions": [...]}`.
public struct VersionResult: Sendable, Hashable {
    /// Echoes the request's `cniVersion` (spec Section 5), even one we do not
    /// support: the runtime is asking what we support, not telling us.
    public var cniVersion: String
    public var supportedVersions: [String]

    public init(cniVersion: String = CNIVersion.latest.rawValue,
                supportedVersions: [String] = CNIVersion.supportedStrings) {
        self.cniVersion = cniVersion
        self.supportedVersions = supportedVersions
    }

    public var jsonValue: JSONValue {
        .object(["cniVersion": .string(cniVersion), "supportedVersions": .array(supportedVersions.map(JSONValue.string))])
    }

    public func encoded() -> Data { jsonValue.encoded() }
}
