#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import ArgumentParser
import IPAM
import LeaseService
import LeaseStore

extension Ipamctl {
    /// A consistent copy of a store, taken without the lock (online backup API).
    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Back up network stores (default: <data-dir>/<network>/backups/<UTC>-manual.db).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Write the backup here (one network only; the file must not exist).") var output: String?

        func run() throws {
            let catalog = StoreCatalog(dataDir: store.dataDir)
            let networks = try catalog.selected(store.network)
            guard !networks.isEmpty else { throw ValidationError("no networks under \(store.dataDir)") }
            if let output {
                guard networks.count == 1 else {
                    throw ValidationError("--output names one file but \(networks.count) networks are selected; add --network")
                }
                guard access(output, F_OK) != 0 else { throw ValidationError("--output \(output) exists; refusing to overwrite it") }
                try catalog.open(networks[0]).backup(to: output)
                Output.write(Data("\(networks[0]): \(output)\n".utf8))
                return
            }
            for network in networks {
                let path = try DestructiveGuard.backup(try StoreLocation(dataDir: store.dataDir, network: network), action: "manual")
                Output.write(Data("\(network): \(path)\n".utf8))
            }
        }
    }

    /// Replaces a network's store with a backup. Dry run by default; the leases
    /// the backup lacks count against the blast-radius limit; the current
    /// store is backed up first. The plugin reconciles with the kernel before
    /// its next allocation (meta `restored_at`).
    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a network's store from a backup (dry run unless --apply).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The backup file.") var file: String
        @Flag(help: "Allow restoring into a network whose store is missing (recovery after loss).") var create = false
        @OptionGroup var destructive: DestructiveOptions

        func validate() throws {
            guard store.network != nil else { throw ValidationError("restore needs --network: a backup belongs to one network") }
            guard access(file, R_OK) == 0 else { throw ValidationError("cannot read backup \(file): \(String(cString: strerror(errno)))") }
        }

        func run() throws {
            let network = store.network!
            let location = try StoreLocation(dataDir: store.dataDir, network: network)
            let exists = access(location.databasePath, F_OK) == 0
            guard exists || create else {
                throw ValidationError("unknown network \"\(network)\": no store at \(location.databasePath) (add --create to restore into it)")
            }
            // The backup must be a Holdfast store (restore re-validates under the lock).
            let backupLeases: [Lease]
            do {
                backupLeases = try LeaseStore.openBackup(file).read { try $0.leases() }
            } catch {
                throw ValidationError("\(file) is not a usable Holdfast backup: \(error)")
            }
            let current: [Lease] = exists ? (try LeaseStore.openReadOnly(location).read { try $0.leases() }) : []
            let kept = Set(backupLeases.map { LeaseKey($0) })
            let vanish = current.filter { !kept.contains(LeaseKey($0)) }
            let back = backupLeases.filter { l in !current.contains { LeaseKey($0) == LeaseKey(l) } }
            let limit = destructive.radius.limit(live: current.count)
            if !destructive.apply {
                var text = "DRY RUN (nothing changed): restoring \(file) into network \"\(network)\" would drop \(vanish.count) "
                    + "and bring back \(back.count) of \(current.count) live lease(s)\n"
                for l in vanish { text += "  drop    \(l.address) \(l.containerID)/\(l.ifname)\n" }
                for l in back { text += "  restore \(l.address) \(l.containerID)/\(l.ifname)\n" }
                text += vanish.count > limit ? "Over the blast-radius limit of \(limit): re-run with --apply --force to act.\n"
                                             : "Re-run with --apply to act (the current store is backed up first).\n"
                Output.write(Data(text.utf8))
                return
            }
            try destructive.radius.check(releasing: vanish.count, of: current.count, force: destructive.force, action: "restore")
            let actor = AuditActor.current(process: "ipamctl")
            let backup = exists ? try DestructiveGuard.backup(location, action: "restore") : nil
            let preserved = try LeaseStore.restore(
                from: file, to: location, lockTimeout: destructive.lockTimeout,
                actor: "\(actor)\(destructive.force ? " (forced)" : ""); backup: \(backup ?? "none")")
            Output.write(Data(("restored \(file) into network \"\(network)\": dropped \(vanish.count), brought back \(back.count); "
                + "backup: \(backup ?? "-"); previous database kept as \(preserved ?? "-")\n"
                + "The plugin reconciles with the kernel before its next allocation.\n").utf8))
        }
    }

    /// The audit log: who did what, when, and which backup came first.
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the audit log of destructive and operator actions.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Newest entries to show per network.") var limit: Int = 50
        @Flag(help: "Print JSON instead of a table.") var json = false

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1, got \(limit)") }
        }

        struct Row: Encodable {
            var network: String
            var at: String
            var actor: String
            var action: String
            var detail: String
        }

        func run() throws {
            let catalog = StoreCatalog(dataDir: store.dataDir)
            var rows: [Row] = []
            for network in try catalog.selected(store.network) {
                rows += try catalog.open(network).read { try $0.auditLog(limit: limit) }.map {
                    Row(network: network, at: Output.timestamp($0.at), actor: $0.actor, action: $0.action, detail: $0.detail)
                }
            }
            if json { try Output.printJSON(rows) } else {
                Output.printTable(header: ["NETWORK", "AT", "ACTOR", "ACTION", "DETAIL"],
                                  rows: rows.map { [$0.network, $0.at, $0.actor, $0.action, $0.detail] })
            }
        }
    }
}

/// A lease's identity for comparing two stores.
struct LeaseKey: Hashable {
    var address: String
    var containerID: String
    var ifname: String
    init(_ lease: Lease) {
        address = lease.address.description
        containerID = lease.containerID
        ifname = lease.ifname
    }
}
