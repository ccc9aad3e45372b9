#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import IPAM
import LeaseService
import LeaseStore

extension Ipamctl {
    /// Size, used, quarantined and free addresses per network, from a snapshot.
    struct Pools: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show size, used, quarantined and free addresses per network.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            let catalog = StoreCatalog(dataDir: store.dataDir)
            let rows = try catalog.selected(store.network).map { try PoolView(network: $0, store: catalog.open($0)) }
            if json { try Output.printJSON(rows) } else {
                Output.printTable(header: ["NETWORK", "RANGES", "SIZE", "USED", "PENDING", "QUARANTINED", "FREE", "FROZEN"],
                                  rows: rows.map { [$0.network, $0.ranges.joined(separator: ","), String($0.size), String($0.used),
                                                    String($0.pendingRelease), String($0.quarantined), String($0.free),
                                                    $0.frozen ?? "no"] })
            }
        }
    }
}

/// One network's pool as `ipamctl pools` and metrics report it.
struct PoolView: Encodable {
    var network: String
    var ranges: [String]
    var size: UInt64
    var used: Int
    var pendingRelease: Int
    var quarantined: Int
    var free: UInt64
    var frozen: String?

    init(network: String, store: LeaseStore, now: Date = Date()) throws {
        self.network = network
        let (counts, rangeSets, frozen) = try store.read { txn in
            let stored = try PoolRecord.rangeSets(in: txn)
            let quarantine = try PoolRecord.quarantine(in: txn)
            return (try txn.counts(now: now, quarantine: quarantine), stored, try txn.meta(MetaKey.frozen))
        }
        ranges = rangeSets.flatMap { $0.ranges.map { "\($0.rangeStart)-\($0.rangeEnd)" } }
        size = rangeSets.reduce(0) { $0 &+ $1.ranges.reduce(0) { $0 &+ $1.capacity } }
        used = counts.active + counts.pendingRelease
        pendingRelease = counts.pendingRelease
        quarantined = counts.quarantined
        free = size > UInt64(used) ? size - UInt64(used) : 0
        self.frozen = frozen
    }
}
