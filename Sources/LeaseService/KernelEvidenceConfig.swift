#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    struct Raw: Decodable {
        struct Section: Decodable {
            var maxNamespaces: Int?
            var timeoutMs: Int?
            var proofDir: String?
        }
        var kernelEvidence: Section?
    }

    /// Decodes and validates `ipam.kernelEvidence`.
    /// - Throws: `IPAMConfigError` naming the field (CNI error 7).
    public init(ipamJSON: Data) throws(IPAMConfigError) {
        // Most configs leave the section out: skip a second full decode then.
        guard ipamJSON.firstRange(of: Data("kernelEvidence".utf8)) != nil else {
            self.init()
            return
        }
        let raw = try LooseDecoding.decode(Raw.self, from: ipamJSON) {
            IPAMConfigError(field: "ipam.kernelEvidence", problem: "cannot decode: \(LooseDecoding.describe($0))")
        }
        let section = raw.kernelEvidence
        self.init()
        if let n = section?.maxNamespaces {
            guard (1...1_000_000).contains(n) else {
                throw IPAMConfigError(field: "ipam.kernelEvidence.maxNamespaces", problem: "must be 1...1000000, got \(n)")
            }
            maxNamespaces = n
        }
        if let ms = section?.timeoutMs {
            guard (1...600_000).contains(ms) else {
                throw IPAMConfigError(field: "ipam.kernelEvidence.timeoutMs", problem: "must be 1...600000, got \(ms)")
            }
            timeout = .milliseconds(ms)
        }
        if let dir = section?.proofDir {
            guard dir.hasPrefix("/"), !dir.contains("\0") else {
                throw IPAMConfigError(field: "ipam.kernelEvidence.proofDir", problem: "must be an absolute path, got \"\(dir)\"")
            }
            proofDir = dir
        }
    }
}
