#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import CNI
import IPAM
import LeaseService
import LeaseStore

/// `holdfast-ipam`: the CNI IPAM plugin, drop-in for host-local's config.
///
/// Each verb opens the network's store, does its work in at most one write
/// transaction, and returns. Errors are mapped to CNI codes by
/// `CNIError.from(ipam:)`.
public struct HoldfastIPAMPlugin: CNIPlugin {
    public init() {}

    /// Decodes the `ipam` section and opens the network's store.
    public static func service(for config: NetworkConfig) throws(CNIError) -> IPAMService {
        guard let ipam = config.raw["ipam"], ipam.objectValue != nil else {
            throw .invalidConfig("missing \"ipam\" section")
        }
        do {
            let ipamConfig = try IPAMConfig(ipamJSON: ipam.encoded())
            return try IPAMService(network: config.name, config: ipamConfig, started: CNIDispatcher.started)
        } catch {
            throw .from(ipam: error)
        }
    }

    public func add(_ request: CNIRequest) throws -> CNIResult {
        let attachment = try request.environment.requireAttachment()
        let service = try Self.service(for: request.config)
        let requested = try RequestedAddresses.parse(request)
        do {
            let builder = IPAMResultBuilder(config: service.config)
            let dns = try builder.dns()
            let allocation = try service.allocate(attachment, details: AttachmentDetails(
                netns: request.environment.netns, bootID: BootID.current), requested: requested)
            return builder.result(for: allocation.leases, dns: dns)
        } catch {
            throw CNIError.from(ipam: error)
        }
    }

    public func del(_ request: CNIRequest) throws {
        let attachment = try request.environment.requireAttachment()
        let service = try Self.service(for: request.config)
        do { try service.release(attachment) } catch { throw CNIError.from(ipam: error) }
    }

    public func check(_ request: CNIRequest) throws {
        let attachment = try request.environment.requireAttachment()
        let service = try Self.service(for: request.config)
        do {
            try service.check(attachment, expected: (request.config.prevResult?.ips ?? []).map(\.address.address))
        } catch {
            throw CNIError.from(ipam: error)
        }
    }

    public func status(_ request: CNIRequest) throws {
        let service = try Self.service(for: request.config)
        do { try service.status() } catch { throw CNIError.from(ipam: error) }
    }

    public func gc(_ request: CNIRequest) throws {
        guard let valid = request.config.validAttachments else {
            throw CNIError.invalidConfig("GC needs \"cni.dev/valid-attachments\"")
        }
        let service = try Self.service(for: request.config)
        do { try service.garbageCollect(valid: Set(valid)) } catch { throw CNIError.from(ipam: error) }
    }
}
