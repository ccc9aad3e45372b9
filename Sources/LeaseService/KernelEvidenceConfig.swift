import Addressing
import ConfigFields
import JSONCore

/// How ADD proves no live container holds an address (Holdfast extension):
/// where the currency proof lives, and the bounds of the full namespace scan
/// that `holdfast-ipam` runs when the proof does not match.
///
/// ```json
/// "ipam": { ..., "kernelEvidence": {"maxNamespaces": 4096, "timeoutMs": 5000,
///                                   "proofDir": "/run/holdfast/proof"} }
/// ```
public struct KernelEvidenceConfig: Sendable, Equatable {
    /// More distinct network namespaces than this fails the ADD (CNI error 107).
    public var maxNamespaces: Int
    /// A scan still running after this fails the ADD (CNI error 107).
    public var timeout: Duration
    /// Directory of the `ProofFile`s; must be on a filesystem a reboot empties.
    public var proofDir: String

    public static let defaultMaxNamespaces = 4096
    public static let defaultTimeout = Duration.seconds(5)

    public init(maxNamespaces: Int = KernelEvidenceConfig.defaultMaxNamespaces,
                timeout: Duration = KernelEvidenceConfig.defaultTimeout, proofDir: String = ProofFile.defaultDirectory) {
        self.maxNamespaces = maxNamespaces
        self.timeout = timeout
        self.proofDir = proofDir
    }

    /// Reads and validates `ipam.kernelEvidence` from an already parsed `ipam`
    /// object; an absent or `null` section keeps the defaults.
    /// - Throws: `ConfigFieldError` naming the field (CNI error 7); a wrong JSON
    ///   type is reported under `ipam` with its path, like every `IPAMFields` read.
    public init(ipam json: JSONValue) throws(ConfigFieldError) {
        self.init()
        guard let section = try IPAMFields(json, path: "ipam").object("kernelEvidence") else { return }
        if let n = try section.int("maxNamespaces") {
            guard (1...1_000_000).contains(n) else {
                throw ConfigFieldError(field: "ipam.kernelEvidence.maxNamespaces", problem: "must be 1...1000000, got \(n)")
            }
            maxNamespaces = n
        }
        if let ms = try section.int("timeoutMs") {
            guard (1...600_000).contains(ms) else {
                throw ConfigFieldError(field: "ipam.kernelEvidence.timeoutMs", problem: "must be 1...600000, got \(ms)")
            }
            timeout = .milliseconds(ms)
        }
        if let dir = try section.string("proofDir") {
            guard dir.hasPrefix("/"), !dir.contains("\0") else {
                throw ConfigFieldError(field: "ipam.kernelEvidence.proofDir", problem: "must be an absolute path, got \"\(dir)\"")
            }
            proofDir = dir
        }
    }
}
