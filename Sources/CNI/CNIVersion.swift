#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A CNI specification version this package speaks.
///
/// Only the versions whose result shape we can produce exactly are listed:
/// 0.3.0 through 1.1.0. 0.1.0/0.2.0 (the `ip4`/`ip6` result shape) are not
/// supported, so a config without `cniVersion` (which libcni treats as 0.1.0)
/// is rejected with code 1 rather than guessed at.
public enum CNIVersion: String, CaseIterable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    case v0_3_0 = "0.3.0"
    case v0_3_1 = "0.3.1"
    case v0_4_0 = "0.4.0"
    case v1_0_0 = "1.0.0"
    case v1_1_0 = "1.1.0"

    /// The newest version; used for error JSON when the request's version is unknown.
    public static let latest: CNIVersion = .v1_1_0

    /// Every supported version as text, oldest first (what VERSION reports).
    public static var supportedStrings: [String] { allCases.map(\.rawValue) }

    /// Parses a version string; unknown or unsupported versions throw code 1
    /// naming the version and the supported list.
    public static func parse(_ text: String) throws(CNIError) -> CNIVersion {
        guard let v = CNIVersion(rawValue: text) else {
            throw .incompatibleVersion(
                "incompatible CNI version \"\(text)\"",
                details: "supported versions: \(supportedStrings.joined(separator: ", "))")
        }
        return v
    }

    /// 0.3.x/0.4.0 results carry `ips[].version`; 1.x results do not.
    public var hasIPVersionField: Bool { self < .v1_0_0 }

    /// Route `mtu`/`advmss`/`priority`/`table`/`scope` and interface
    /// `mtu`/`socketPath`/`pciID` exist only from 1.1.0.
    public var hasExtendedFields: Bool { self >= .v1_1_0 }

    /// CHECK exists from 0.4.0.
    public var supportsCheck: Bool { self >= .v0_4_0 }

    /// STATUS and GC exist from 1.1.0.
    public var supportsStatusAndGC: Bool { self >= .v1_1_0 }

    private var ordinal: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: CNIVersion, rhs: CNIVersion) -> Bool { lhs.ordinal < rhs.ordinal }

    public var description: String { rawValue }
}
