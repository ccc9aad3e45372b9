import Addressing
import CNI
import IPAM
import IPAMPlugin
import LeaseService

/// Where the bridge plugin's addresses come from.
///
/// `holdfast-ipam` runs in-process (no extra exec, one store transaction per
/// ADD, and the lease records the veth and MAC); any other IPAM type is exec'd
/// from CNI_PATH as the spec's delegation section says.
enum IPAMBackend {
    case inProcess(IPAMService)
    /// `timeout`: the bridge config's `timeoutMs`, the run's deadline.
    case delegated(type: String, timeout: Duration)

    static let inProcessType = "holdfast-ipam"

    /// Chooses and validates the backend before the plugin touches the kernel,
    /// so a bad ipam config fails without leaving anything behind.
    init(request: CNIRequest) throws(CNIError) {
        guard let type = request.config.ipamType else { throw .invalidConfig("missing \"ipam\" section or its \"type\"") }
        if type == Self.inProcessType {
            self = .inProcess(try HoldfastIPAMPlugin.service(for: request.config))
        } else {
            self = .delegated(type: type, timeout: (try? BridgeConfig(config: request.config.raw))?.timeout
                                ?? BridgeConfig.defaultTimeout)
        }
    }

    /// What is left of the run's deadline for one delegated exec. At least
    /// 100 ms, so that a rollback's DEL after a timed-out ADD still gets a
    /// chance to release what the delegate may have allocated.
    static func remaining(of timeout: Duration) -> Duration {
        max(timeout - (ContinuousClock.now - CNIDispatcher.started), .milliseconds(100))
    }

    /// The IPAM result plus, for in-process IPAM, the leases behind it.
    struct Outcome {
        var result: CNIResult
        var leases: [Lease]
        /// False when the addresses were already held (retried ADD): rollback must keep them.
        var newlyAllocated: Bool
    }

    func allocate(_ request: CNIRequest, attachment: Attachment, details: AttachmentDetails,
                  guard kernelGuard: KernelGuard?) throws -> Outcome {
        switch self {
        case .inProcess(let service):
            let builder = IPAMResultBuilder(config: service.config)
            let dns = try builder.dns()
            let requested = try RequestedAddresses.parse(request)
            let allocation = try service.allocate(attachment, details: details, requested: requested,
                                                  liveAddresses: { txn in try kernelGuard?.liveAddresses(txn) ?? [] },
                                                  beforeCommit: { txn in try kernelGuard?.stamp(txn) })
            return Outcome(result: builder.result(for: allocation.leases, dns: dns), leases: allocation.leases,
                           newlyAllocated: !allocation.reused)
        case .delegated(let type, let timeout):
            return Outcome(result: try DelegatedPlugin.add(type: type, request: request, timeout: Self.remaining(of: timeout)),
                           leases: [], newlyAllocated: true)
        }
    }

    /// Releases the attachment's addresses; returns those it knew of.
    /// `kernelGuard`, when the bridge exists, re-stamps it in the same
    /// transaction so the next ADD can still prove the store current.
    @discardableResult
    func release(_ request: CNIRequest, attachment: Attachment, kernelGuard: KernelGuard? = nil) throws -> [IPAddress] {
        switch self {
        case .inProcess(let service):
            let hostName = InterfaceName.hostVeth(containerID: attachment.containerID, ifname: attachment.ifname)
            return try service.release(attachment, hostInterface: hostName,
                                       beforeChange: { txn in try kernelGuard?.checkCurrent(txn) },
                                       beforeCommit: { txn in try kernelGuard?.stamp(txn) }).map(\.address)
        case .delegated(let type, let timeout):
            _ = try DelegatedPlugin.exec(type: type, command: .del, request: request, timeout: Self.remaining(of: timeout))
            return request.previousAddresses
        }
    }

    /// Addresses the attachment holds, for DEL to clean up masquerade entries
    /// even when the netns is gone.
    ///
    /// A `prevResult` address the store now leases to another attachment (a
    /// late DEL after GC freed and reused it) is not this attachment's to clean.
    func knownAddresses(_ request: CNIRequest, attachment: Attachment) -> [IPAddress] {
        let previous = request.previousAddresses
        guard case .inProcess(let service) = self else { return previous }
        if let leases = try? service.leases(for: attachment), !leases.isEmpty { return leases.map(\.address) }
        let heldByOthers = (try? service.store.read { txn in
            try previous.filter { address in
                guard let holder = try txn.lease(at: address) else { return false }
                return holder.containerID != attachment.containerID || holder.ifname != attachment.ifname
            }
        }) ?? previous
        return previous.filter { !heldByOthers.contains($0) }
    }

    /// The container MAC recorded for the attachment (lease, else prevResult).
    func knownMAC(_ request: CNIRequest, attachment: Attachment) -> MACAddress? {
        if case .inProcess(let service) = self,
           let mac = (try? service.leases(for: attachment))?.compactMap(\.containerMAC).first {
            return MACAddress(mac)
        }
        return request.previousContainerMAC
    }

    func check(_ request: CNIRequest, attachment: Attachment) throws {
        switch self {
        case .inProcess(let service):
            try service.check(attachment, expected: request.previousAddresses)
        case .delegated(let type, let timeout):
            _ = try DelegatedPlugin.exec(type: type, command: .check, request: request, timeout: Self.remaining(of: timeout))
        }
    }

    func status(_ request: CNIRequest) throws {
        switch self {
        case .inProcess(let service): try service.status()
        case .delegated(let type, let timeout):
            _ = try DelegatedPlugin.exec(type: type, command: .status, request: request, timeout: Self.remaining(of: timeout))
        }
    }

    /// GC: returns the leases released (in-process) so the caller can remove
    /// their veths and masquerade entries.
    func garbageCollect(_ request: CNIRequest, valid: Set<Attachment>) throws -> [Lease] {
        switch self {
        case .inProcess(let service): return try service.garbageCollect(valid: valid)
        case .delegated(let type, let timeout):
            _ = try DelegatedPlugin.exec(type: type, command: .gc, request: request, timeout: Self.remaining(of: timeout))
            return []
        }
    }
}
