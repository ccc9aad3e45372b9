import ArgumentParser
import Addressing
import IPAM
import LeaseService
import LeaseStore

extension Ipamctl {
    /// Frees leases by hand: one address, a container's, or all of a network's.
    /// Dry run by default; every applied release goes through `DestructiveAction`.
    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release leases (dry run unless --apply; over the blast-radius limit also --force).",
            discussion: "Examples: ipamctl release 10.0.0.5 --network n1; ipamctl release --container ID --apply; "
                + "ipamctl release --all --network n1 --apply --force")
        @OptionGroup var store: StoreOptions
        @Argument(help: "An IP address to release.") var address: String?
        @Option(help: "Release every lease of this container ID.") var container: String?
        @Flag(help: "Release every lease of the network (needs --network).") var all = false
        @OptionGroup var destructive: DestructiveOptions

        func validate() throws {
            let chosen = [address != nil, container != nil, all].filter { $0 }.count
            guard chosen == 1 else {
                throw ValidationError(chosen == 0 ? "say what to release: an IP address, --container ID or --all"
                                                  : "give only one of: an IP address, --container ID, --all")
            }
            if let address, IPAddress(address) == nil { throw ValidationError("malformed IP address \"\(address)\"") }
            if let container, container.isEmpty { throw ValidationError("--container needs a non-empty container ID") }
            if all && store.network == nil { throw ValidationError("--all needs --network: it never spans networks") }
        }

        func run() throws {
            let catalog = StoreCatalog(dataDir: store.dataDir)
            let ip = address.flatMap(IPAddress.init)
            let matches: (LeaseTransaction) throws -> [Lease] = { txn in
                if all { return try txn.leases() }
                if let ip { return try txn.lease(at: ip).map { [$0] } ?? [] }
                return try txn.leases().filter { $0.containerID == container }
            }
            // Find the one network concerned.
            var networks = try catalog.selected(store.network)
            if store.network == nil {
                networks = try networks.filter { try !catalog.open($0).read(matches).isEmpty }
                guard networks.count <= 1 else {
                    throw ValidationError("\(target) has leases in several networks (\(networks.joined(separator: ", "))); choose one with --network")
                }
            }
            let hasMatch = try networks.first.map { try !catalog.open($0).read(matches).isEmpty } ?? false
            guard let network = networks.first, all || hasMatch else {
                throw ValidationError("no lease for \(target)\(store.network.map { " in network \"\($0)\"" } ?? "")")
            }
            let action = DestructiveAction(name: "release", location: try StoreLocation(dataDir: store.dataDir, network: network),
                                           options: destructive)
            try action.run(plan: matches) { txn, leases, now in
                try DestructiveGuard.release(leases, in: txn, reason: "release", at: now)
            }
        }

        private var target: String {
            if let address { return "address \(address)" }
            if let container { return "container \"\(container)\"" }
            return "--all"
        }
    }
}
