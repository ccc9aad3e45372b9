import ArgumentParser
import Addressing
import IPAM

extension Ipamctl {
    /// Finds who holds an address, or what a container holds.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the lease of an IP address or the leases of a container ID.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "An IP address or a container ID.") var target: String
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            let catalog = StoreCatalog(dataDir: store.dataDir)
            let address = IPAddress(target)
            var rows: [LeaseView] = []
            for network in try catalog.selected(store.network) {
                let found: [Lease] = try catalog.open(network).read { txn in
                    if let address { return try txn.lease(at: address).map { [$0] } ?? [] }
                    return try txn.leases().filter { $0.containerID == target }
                }
                rows += found.map { LeaseView(network: network, lease: $0) }
            }
            guard !rows.isEmpty else {
                throw ValidationError("no lease for \(address != nil ? "address" : "container") \"\(target)\"")
            }
            if json { try Output.printJSON(rows) } else {
                Output.printTable(header: ["NETWORK", "ADDRESS", "CONTAINER", "IFNAME", "HOST-IF", "MAC", "STATE", "CREATED"],
                                  rows: rows.map(\.tableRow))
            }
        }
    }

    /// Who held an address and when: answers "which container had 10.0.0.5 at 21:00?".
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every past and current holder of an IP address.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "An IP address.") var address: String
        @Flag(help: "Print JSON instead of a table.") var json = false

        func validate() throws {
            guard IPAddress(address) != nil else { throw ValidationError("malformed IP address \"\(address)\"") }
        }

        func run() throws {
            let ip = IPAddress(address)!
            let catalog = StoreCatalog(dataDir: store.dataDir)
            var rows: [LeaseView] = []
            for network in try catalog.selected(store.network) {
                let (current, past) = try catalog.open(network).read { txn in
                    (try txn.lease(at: ip), try txn.history(of: ip))
                }
                rows += past.map { LeaseView(network: network, lease: $0.lease, endedAt: $0.endedAt, reason: $0.reason) }
                if let current { rows.append(LeaseView(network: network, lease: current)) }
            }
            rows.sort { $0.created < $1.created }
            if json { try Output.printJSON(rows) } else {
                Output.printTable(header: ["NETWORK", "ADDRESS", "CONTAINER", "IFNAME", "FROM", "UNTIL", "REASON"],
                                  rows: rows.map { [$0.network, $0.address, $0.containerID, $0.ifname, $0.created,
                                                    $0.ended ?? "(holds it)", $0.reason ?? "-"] })
            }
        }
    }
}
