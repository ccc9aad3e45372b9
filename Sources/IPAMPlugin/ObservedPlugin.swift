#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import CNI
import LeaseService
import LeaseStore

/// Wraps any Holdfast plugin so that every verb leaves one structured log line
/// (`DecisionLog`) and failed verbs are counted by CNI code (`Observations`),
/// without touching the verb handlers:
/// `CNIDispatcher.main(plugin: ObservedPlugin(HoldfastIPAMPlugin(), name: "holdfast-ipam"))`.
///
/// Both happen after the verb returned (the lock is long released) and both
/// swallow their own failures: observing can never change an outcome.
public struct ObservedPlugin<Wrapped: CNIPlugin>: CNIPlugin {
    public let wrapped: Wrapped
    /// The executable's name, logged as `plugin`.
    public let name: String

    public init(_ wrapped: Wrapped, name: String) {
        self.wrapped = wrapped
        self.name = name
    }

    public func add(_ request: CNIRequest) throws -> CNIResult {
        try observe("ADD", request) { try wrapped.add(request) } addresses: { $0.ips.map { $0.address.description } }
    }

    public func del(_ request: CNIRequest) throws {
        try observe("DEL", request) { try wrapped.del(request) } addresses: { _ in Self.prevAddresses(request) }
    }

    public func check(_ request: CNIRequest) throws {
        try observe("CHECK", request) { try wrapped.check(request) } addresses: { _ in Self.prevAddresses(request) }
    }

    public func status(_ request: CNIRequest) throws {
        try observe("STATUS", request) { try wrapped.status(request) } addresses: { _ in [] }
    }

    public func gc(_ request: CNIRequest) throws {
        try observe("GC", request) { try wrapped.gc(request) } addresses: { _ in [] }
    }

    private static func prevAddresses(_ request: CNIRequest) -> [String] {
        (request.config.prevResult?.ips ?? []).map { $0.address.description }
    }

    private func observe<T>(_ verb: String, _ request: CNIRequest, _ body: () throws -> T,
                            addresses: (T) -> [String]) throws -> T {
        let clock = ContinuousClock()
        let start = clock.now
        let began = Date()
        let outcome: Result<T, any Error>
        do { outcome = .success(try body()) } catch { outcome = .failure(error) }
        let elapsed = clock.now - start
        let ipam = request.config.raw["ipam"]?.encoded()
        let ops = ipam.flatMap { try? OperationsConfig(ipamJSON: $0) }
        var code: Int?
        var message: String?
        if case .failure(let error) = outcome {
            let cni = (error as? CNIError) ?? CNIError.from(ipam: error)
            code = cni.code
            message = cni.details.isEmpty ? cni.msg : "\(cni.msg): \(cni.details)"
            let dataDir = request.config.raw["ipam"]?["dataDir"]?.stringValue ?? IPAMConfig.defaultDataDir
            if let location = try? StoreLocation(dataDir: dataDir, network: request.config.name),
               access(location.directory, F_OK) == 0 {
                Observations.update(directory: location.directory) { $0.observeError(code: cni.code) }
            }
        }
        if let log = DecisionLog.configured(ops, environment: request.environment.raw) {
            var ips: [String] = []
            if case .success(let value) = outcome { ips = addresses(value) } else { ips = Self.prevAddresses(request) }
            let c = elapsed.components
            log.append(Decision(time: DecisionLog.timestamp(began), verb: verb, network: request.config.name,
                                container: request.environment.containerID, ifname: request.environment.ifname,
                                addresses: ips, durationMs: ((Double(c.seconds) * 1000 + Double(c.attoseconds) / 1e15) * 1000).rounded() / 1000,
                                outcome: code == nil ? "ok" : "error", code: code, message: message,
                                plugin: name, pid: getpid()))
        }
        return try outcome.get()
    }
}
