import Addressing
import CNI

extension CNIRequest {
    /// The addresses `prevResult` says the attachment had: DEL's fallback when the
    /// store cannot say (no lease, delegated IPAM, store unreadable).
    var previousAddresses: [IPAddress] { (config.prevResult?.ips ?? []).map(\.address.address) }

    /// The container interface's MAC from `prevResult` (the interface with a sandbox).
    var previousContainerMAC: MACAddress? {
        config.prevResult?.interfaces.first { $0.sandbox != nil }?.macAddress
    }
}
