#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One validated invocation: what every verb handler receives.
public struct CNIRequest: Sendable, Hashable {
    public var environment: CNIEnvironment
    public var config: NetworkConfig
    /// The exact stdin bytes (what a delegated plugin must receive).
    public var stdinBytes: Data

    public init(environment: CNIEnvironment, config: NetworkConfig, stdinBytes: Data? = nil) {
        self.environment = environment
        self.config = config
        self.stdinBytes = stdinBytes ?? config.bytes
    }
}

/// A plugin's verb handlers; `CNIDispatcher` does everything else (parsing,
/// validation, VERSION, version gating, printing).
///
/// Handlers throw `CNIError` for protocol-level failures; any other error is
/// reported as code 999 with its description. No handler writes to stdout:
/// the dispatcher prints only the result or the error JSON.
public protocol CNIPlugin {
    /// Creates the attachment and returns its result; it is printed in the
    /// config's `cniVersion` shape.
    func add(_ request: CNIRequest) throws -> CNIResult
    /// Removes the attachment; must succeed when it is already gone.
    func del(_ request: CNIRequest) throws
    /// Verifies the attachment against `config.prevResult` (0.4.0+ only).
    func check(_ request: CNIRequest) throws
    /// Readiness for ADD (1.1.0+ only): throw code 50/51 when not ready.
    func status(_ request: CNIRequest) throws
    /// Removes resources of attachments not in `config.validAttachments` (1.1.0+ only).
    func gc(_ request: CNIRequest) throws
}
