#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import ArgumentParser
import IPAM
import LeaseStore

extension Ipamctl {
    /// Lists live leases from a consistent snapshot, without the writer's lock.
    struct Leases: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List leases (table, or --json).")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            let catalog = StoreCatalog(dataDir: store.dataDir)
            var all: [(String, [Lease], [IPAddress: (block: IPNetwork, epoch: Int64)])] = []
            for network in try catalog.selected(store.network) {
                all.append(try catalog.open(network).read { (network, try $0.leases(), try $0.leaseBlocks()) })
            }
            // Views are made lazily as the JSON is streamed out.
            let rows = all.lazy.flatMap { network, leases, blocks in
                leases.lazy.map { LeaseView(network: network, lease: $0, block: blocks[$0.address]) }
            }
            if json {
                try Output.printJSONArray(rows)
            } else {
                Output.printTable(header: ["NETWORK", "ADDRESS", "CONTAINER", "IFNAME", "HOST-IF", "MAC", "STATE", "CREATED"],
                                  rows: rows.map(\.tableRow))
            }
        }
    }
}

/// A lease as ipamctl shows it: flat, with its network.
struct LeaseView: Encodable {
    var network: String
    var address: String
    var containerID: String
    var ifname: String
    var netns: String?
    var hostInterface: String?
    var containerMAC: String?
    var state: String
    var created: String
    var ended: String?
    var reason: String?
    /// Cluster mode: the block the address came from and that block's
    /// ownership epoch (its etcd create revision) when it was leased.
    var block: String?
    var blockEpoch: Int64?

    init(network: String, lease: Lease, endedAt: Date? = nil, reason: String? = nil,
         block: (block: IPNetwork, epoch: Int64)? = nil) {
        self.network = network
        address = lease.address.description
        containerID = lease.containerID
        ifname = lease.ifname
        netns = lease.netns
        hostInterface = lease.hostInterface
        containerMAC = lease.containerMAC
        state = lease.state.rawValue
        created = Output.timestamp(lease.createdAt)
        ended = endedAt.map(Output.timestamp)
        self.reason = reason
        self.block = block?.block.description
        blockEpoch = block?.epoch
    }

    var tableRow: [String] {
        [network, address, containerID, ifname, hostInterface ?? "-", containerMAC ?? "-", state, created]
    }
}
