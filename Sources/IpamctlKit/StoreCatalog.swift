#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import ArgumentParser
import LeaseStore
import SystemCalls

/// Finds the networks under a data directory and opens their stores read-only.
struct StoreCatalog {
    var dataDir: String

    /// Network names: every subdirectory holding a `leases.db`, sorted.
    func networks() throws -> [String] {
        let entries: [String]
        do {
            entries = try Directory.entries(dataDir)
        } catch where error.errno == .noSuchFileOrDirectory {
            return []
        } catch {
            throw ValidationError("cannot read data directory \(dataDir): \(error)")
        }
        return entries.filter { !$0.hasPrefix(".") && access("\(dataDir)/\($0)/leases.db", F_OK) == 0 }.sorted()
    }

    /// The networks selected by `--network` (validated to exist) or all of them.
    func selected(_ network: String?) throws -> [String] {
        if let network {
            let location = try StoreLocation(dataDir: dataDir, network: network)
            guard access(location.databasePath, F_OK) == 0 else {
                throw ValidationError("unknown network \"\(network)\": no store at \(location.databasePath)")
            }
            return [network]
        }
        return try networks()
    }

    /// `selected`, refusing an empty data directory (commands that must act on something).
    func selectedNonEmpty(_ network: String?) throws -> [String] {
        let networks = try selected(network)
        guard !networks.isEmpty else { throw ValidationError("no networks under \(dataDir)") }
        return networks
    }

    func open(_ network: String) throws -> LeaseStore {
        try LeaseStore.openReadOnly(StoreLocation(dataDir: dataDir, network: network))
    }

    /// Opens an existing network's store for writing (destructive and freeze
    /// commands); an unknown network is an error, never a new empty store.
    func openWritable(_ network: String) throws -> LeaseStore {
        _ = try selected(network)
        return try LeaseStore.open(StoreLocation(dataDir: dataDir, network: network))
    }
}
