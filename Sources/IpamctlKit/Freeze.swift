#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import LeaseService
import LeaseStore

/// Lock wait for ipamctl's small writes (freeze, unfreeze).
struct WriteOptions: ParsableArguments {
    @Option(help: "How long to wait for the network's lock, in milliseconds.")
    var lockTimeoutMs: Int = 10_000

    func validate() throws {
        guard (1...600_000).contains(lockTimeoutMs) else {
            throw ValidationError("--lock-timeout-ms must be 1...600000, got \(lockTimeoutMs)")
        }
    }
}

extension Ipamctl {
    /// Read-only mode: ADD fails fast (CNI 11) with the reason, DEL still
    /// succeeds but its leases wait for `unfreeze`, STATUS reports 50.
    struct Freeze: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Freeze a network (or all): ADD fails with error 11, DEL's releases wait for unfreeze.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Why (shown in every refused ADD and in the audit log).") var reason: String
        @OptionGroup var write: WriteOptions

        func validate() throws {
            guard !reason.allSatisfy(\.isWhitespace) else {
                throw ValidationError("--reason must not be empty: refused ADDs show it to whoever is paged")
            }
        }

        func run() throws {
            let catalog = StoreCatalog(dataDir: store.dataDir)
            let networks = try catalog.selectedNonEmpty(store.network)
            let actor = AuditActor.current(process: "ipamctl")
            for network in networks {
                try FreezeControl.freeze(try catalog.openWritable(network), reason: reason, actor: actor,
                                         lockTimeout: .milliseconds(write.lockTimeoutMs))
                Output.write(Data("network \"\(network)\" frozen: \(reason)\n".utf8))
            }
        }
    }

    /// Leaves read-only mode and applies the releases DEL queued meanwhile.
    struct Unfreeze: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unfreeze a network (or all) and apply the releases queued while frozen.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var write: WriteOptions

        func run() throws {
            let catalog = StoreCatalog(dataDir: store.dataDir)
            let networks = try catalog.selectedNonEmpty(store.network)
            let actor = AuditActor.current(process: "ipamctl")
            for network in networks {
                let done = try FreezeControl.unfreeze(try catalog.openWritable(network), actor: actor,
                                                      lockTimeout: .milliseconds(write.lockTimeoutMs))
                var text = done.wasFrozen ? "network \"\(network)\" unfrozen (was: \(done.reason ?? ""))"
                                          : "network \"\(network)\" was not frozen"
                if !done.released.isEmpty {
                    text += "; released \(done.released.count) pending lease(s): "
                        + done.released.map(\.address.description).joined(separator: ", ") + "; backup: \(done.backup ?? "-")"
                }
                Output.write(Data((text + "\n").utf8))
            }
        }
    }
}
