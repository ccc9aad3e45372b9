#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import IPAM
import LeaseService
import LeaseStore

/// Flags every destructive subcommand shares. Dry run unless `--apply`.
struct DestructiveOptions: ParsableArguments {
    @Flag(help: "Act. Without it the command only prints what it would do.")
    var apply = false

    @Flag(help: "Allow an action above the blast-radius limit (needs --apply).")
    var force = false

    @Option(help: "Most leases one action may release without --force.")
    var maxRelease: Int = BlastRadius.defaultMaxCount

    @Option(help: "Most leases one action may release without --force, as a fraction of live leases (0, 1].")
    var maxReleaseFraction: Double = BlastRadius.defaultMaxFraction

    @Option(help: "How long to wait for the network's lock, in milliseconds.")
    var lockTimeoutMs: Int = 10_000

    func validate() throws {
        if force && !apply { throw ValidationError("--force only makes sense with --apply (a dry run never needs it)") }
        guard maxRelease >= 1 else { throw ValidationError("--max-release must be at least 1, got \(maxRelease)") }
        guard maxReleaseFraction > 0 && maxReleaseFraction <= 1 else {
            throw ValidationError("--max-release-fraction must be in (0, 1], got \(maxReleaseFraction)")
        }
        guard (1...600_000).contains(lockTimeoutMs) else {
            throw ValidationError("--lock-timeout-ms must be 1...600000, got \(lockTimeoutMs)")
        }
    }

    var radius: BlastRadius { BlastRadius(maxCount: maxRelease, maxFraction: maxReleaseFraction) }
    var lockTimeout: Duration { .milliseconds(lockTimeoutMs) }
}

/// The shared guard for destructive ipamctl commands (`release`, and
/// `reconcile --apply`): plan, dry-run print, blast-radius check, backup,
/// apply, audit. There is no other way for a command to free leases.
///
/// ```swift
/// let action = DestructiveAction(name: "release", location: location, options: destructive)
/// try action.run(plan: { txn in try txn.leases().filter { ... } }) { txn, leases, now in
///     try DestructiveGuard.release(leases, in: txn, reason: "release", at: now)
/// }
/// ```
/// `plan` is evaluated twice when applying: once on a snapshot for the dry run
/// (never with --apply), and once inside the write transaction, so what is
/// checked, backed up and applied is exactly what the lock protects.
struct DestructiveAction {
    /// Audit action and backup-name suffix ("release", "reconcile", ...).
    var name: String
    var location: StoreLocation
    var options: DestructiveOptions
    var actor = AuditActor.current(process: "ipamctl")

    enum Outcome {
        case dryRun(plan: [Lease], live: Int, limit: Int)
        case applied(released: [Lease], backup: String?)
    }

    /// Prints the plan (dry run) or applies it; returns what happened.
    /// - Throws: `massReleaseRefused` (over the limit without --force; nothing
    ///   changed), lock timeouts, backup or store errors (nothing changed).
    @discardableResult
    func run(plan: (LeaseTransaction) throws -> [Lease],
             apply: (LeaseTransaction, [Lease], Date) throws -> Void) throws -> Outcome {
        if !options.apply {
            let (leases, live) = try LeaseStore.openReadOnly(location).read { txn in
                (try plan(txn), try txn.counts(now: Date(), quarantine: .zero).byRangeSet.values.reduce(0, +))
            }
            let limit = options.radius.limit(live: live)
            var text = "DRY RUN (nothing changed): `\(name)` would free \(leases.count) of \(live) live lease(s) in network \"\(location.network)\"\n"
            Output.write(Data(text.utf8))
            if !leases.isEmpty {
                Output.printTable(header: ["ADDRESS", "CONTAINER", "IFNAME", "STATE"],
                                  rows: leases.map { [$0.address.description, $0.containerID, $0.ifname, $0.state.rawValue] })
            }
            text = leases.count > limit
                ? "Over the blast-radius limit of \(limit) (--max-release \(options.maxRelease), --max-release-fraction \(options.maxReleaseFraction)): re-run with --apply --force to act.\n"
                : (leases.isEmpty ? "Nothing to do.\n" : "Re-run with --apply to act (a backup is taken first).\n")
            Output.write(Data(text.utf8))
            return .dryRun(plan: leases, live: live, limit: limit)
        }
        let store = try LeaseStore.open(location)
        let now = Date()
        let outcome: Outcome = try store.write(lockTimeout: options.lockTimeout) { txn in
            let leases = try plan(txn)
            guard !leases.isEmpty else { return .applied(released: [], backup: nil) }
            let live = try txn.counts(now: now, quarantine: .zero).byRangeSet.values.reduce(0, +)
            let backup = try DestructiveGuard.run(
                in: txn, location: location, action: name, releasing: leases.count, live: live,
                radius: options.radius, force: options.force, actor: actor,
                detail: "released \(leases.count) of \(live) lease(s): \(DestructiveGuard.describe(leases))", at: now) {
                try apply(txn, leases, now)
            }.backup
            return .applied(released: leases, backup: backup)
        }
        if case .applied(let released, let backup) = outcome {
            let text = released.isEmpty ? "Nothing to do.\n"
                : "Released \(released.count) lease(s) in network \"\(location.network)\": "
                  + released.map(\.address.description).joined(separator: ", ") + "\nBackup: \(backup ?? "-")\n"
            Output.write(Data(text.utf8))
        }
        return outcome
    }
}
