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
            let ipamConfig = try IPAMConfig(ipam: ipam)
            let service = try IPAMService(network: config.name, config: ipamConfig, started: CNIDispatcher.started)
            CNIDispatcher.keepUntilExit(service)
            return service
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
            let currency = Self.currencyGuard(for: service)
            let allocation = try service.allocate(attachment, details: AttachmentDetails(
                netns: request.environment.netns, bootID: BootID.current), requested: requested,
                liveAddresses: { try currency?.liveAddresses($0) ?? [] }, beforeCommit: { try currency?.stamp($0) })
            return builder.result(for: allocation.leases, dns: dns)
        } catch {
            throw CNIError.from(ipam: error)
        }
    }

    public func del(_ request: CNIRequest) throws {
        let attachment = try request.environment.requireAttachment()
        let service = try Self.service(for: request.config)
        let currency = Self.currencyGuard(for: service)
        do {
            let released = try service.release(attachment, beforeChange: { try currency?.checkCurrent($0) },
                                               beforeCommit: { try currency?.stamp($0) })
            // A lease adopted from a namespace scan names the namespace and
            // interface, not the container: find it by those.
            if released.isEmpty, let netns = request.environment.netns {
                for lease in try service.store.read({ try $0.leases() })
                where lease.containerID.hasPrefix(IPAMService.adoptedPrefix) && lease.ifname == attachment.ifname
                    && lease.netns.map({ AdoptedNamespace.same($0, netns) }) == true {
                    let again = Self.currencyGuard(for: service)
                    try service.release(Attachment(containerID: lease.containerID, ifname: lease.ifname),
                                        beforeChange: { try again?.checkCurrent($0) }, beforeCommit: { try again?.stamp($0) })
                }
            }
        } catch {
            throw CNIError.from(ipam: error)
        }
    }

    /// The store's currency proof, with every network namespace on the host as
    /// the evidence when it does not match (see `CurrencyGuard`). None for
    /// cluster networks: they allocate from claimed blocks, not `rangeSets`, so
    /// the scan has no ranges to look for there yet.
    static func currencyGuard(for service: IPAMService) -> CurrencyGuard? {
        let config = service.config
        guard config.cluster == nil else { return nil }
        return CurrencyGuard(proof: ProofFile(directory: config.kernelEvidence.proofDir, location: service.store.location),
                             rangeSets: config.rangeSets, now: service.now(),
                             evidence: { try NamespaceEvidence.read(NamespaceEvidence.scan(for: config), rangeSets: config.rangeSets) })
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
