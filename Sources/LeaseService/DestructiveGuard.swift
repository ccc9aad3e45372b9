#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import IPAM
import LeaseStore
import SystemCalls

/// How many leases one destructive action may free without `--force`.
///
/// The limit is the smaller of a count and a fraction of live leases, but
/// never below one: freeing a single named lease is always allowed, freeing
/// "everything" never is without force (DESIGN.md invariant 6).
public struct BlastRadius: Sendable, Hashable {
    public var maxCount: Int
    public var maxFraction: Double

    public static let defaultMaxCount = 10
    public static let defaultMaxFraction = 0.25

    public init(maxCount: Int = BlastRadius.defaultMaxCount, maxFraction: Double = BlastRadius.defaultMaxFraction) {
        self.maxCount = maxCount
        self.maxFraction = maxFraction
    }

    /// The most leases that may go out of `live` without force.
    public func limit(live: Int) -> Int {
        max(1, min(maxCount, Int((Double(live) * maxFraction).rounded(.down))))
    }

    /// Throws `IPAMServiceError.massReleaseRefused` (our code 103) when
    /// `count` of `live` is over the limit and `force` is not set.
    public func check(releasing count: Int, of live: Int, force: Bool, action: String) throws {
        guard !force, count > limit(live: live) else { return }
        throw IPAMServiceError.massReleaseRefused(
            "\(action) refused: it would release \(count) of \(live) live lease(s), more than the limit of \(limit(live: live)) "
            + "(smaller of \(maxCount) and \(Int(maxFraction * 100))% of live leases); review the dry run, then add --force")
    }
}

/// The one path every destructive action takes: blast-radius check, backup,
/// apply, audit, all inside the caller's write transaction (so under the
/// network's flock, and nothing can change between the check and the act).
///
/// Used by `ipamctl release`/`unfreeze`/`restore`, the plugin's GC verb, and
/// meant for `ipamctl reconcile --apply`.
public enum DestructiveGuard {
    /// Backups kept per network; older ones are pruned after each new backup.
    public static let keptBackups = 50

    /// `<store dir>/backups`.
    public static func backupDirectory(_ location: StoreLocation) -> String { location.directory + "/backups" }

    /// Writes `<store dir>/backups/<UTC timestamp>-<action>.db` and returns its path.
    ///
    /// Reads through a separate read-only connection: called inside a write
    /// transaction that has changed nothing yet, it copies exactly the state
    /// the action starts from (WAL readers see the last commit), while the
    /// flock keeps every other writer out.
    public static func backup(_ location: StoreLocation, action: String, at now: Date = Date()) throws -> String {
        let dir = backupDirectory(location)
        if mkdir(dir, 0o700) != 0 {
            let error = SystemCallError.last("mkdir(\(dir))")
            if error.errno != .fileExists { throw StoreError.io(operation: error.operation, errno: error.errno.rawValue) }
        }
        let stamp = DecisionLog.timestamp(now).replacing(":", with: "").replacing("-", with: "")
        let safeAction = String(action.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        var path = "\(dir)/\(stamp)-\(safeAction).db"
        var n = 1
        while access(path, F_OK) == 0 {
            n += 1
            path = "\(dir)/\(stamp)-\(safeAction)-\(n).db"
        }
        try LeaseStore.openReadOnly(location).backup(to: path)
        prune(dir)
        return path
    }

    /// Checks, backs up, runs `apply`, and appends the audit record, in `txn`.
    ///
    /// - Parameters:
    ///   - releasing/live: how many leases the action frees, out of how many live ones.
    ///   - radius: nil skips the blast-radius check (for actions whose limit is
    ///     checked elsewhere, like GC's fraction, or that free what the runtime
    ///     asked for, like unfreeze).
    ///   - detail: what the audit record says was done; the backup path is appended.
    /// - Returns: `apply`'s result and the backup's path.
    /// - Throws: `massReleaseRefused` before anything happens, a backup failure
    ///   before anything is released, or `apply`'s error (the transaction rolls back).
    public static func run<T>(in txn: LeaseTransaction, location: StoreLocation, action: String,
                              releasing: Int, live: Int, radius: BlastRadius?, force: Bool,
                              actor: AuditActor, detail: String, at now: Date = Date(),
                              _ apply: () throws -> T) throws -> (result: T, backup: String) {
        try radius?.check(releasing: releasing, of: live, force: force, action: action)
        let path = try backup(location, action: action, at: now)
        let result = try apply()
        try txn.appendAudit(actor: actor.description, action: action,
                            detail: "\(detail)\(force ? " (forced)" : ""); backup: \(path)", at: now)
        return (result, path)
    }

    /// Releases `leases` with `reason`, counting them for metrics. For use in `apply`.
    public static func release(_ leases: [Lease], in txn: LeaseTransaction, reason: String, at now: Date) throws {
        for lease in leases { try txn.release(lease, reason: reason, at: now) }
        try StatCounters.add(txn, releases: leases.count)
    }

    /// A short description of `leases` for audit records.
    public static func describe(_ leases: [Lease]) -> String {
        let shown = leases.prefix(20).map { "\($0.address) (\($0.containerID)/\($0.ifname))" }
        return shown.joined(separator: ", ") + (leases.count > 20 ? ", ... \(leases.count - 20) more" : "")
    }

    private static func prune(_ dir: String) {
        guard let names = try? Directory.entries(dir).filter({ $0.hasSuffix(".db") }) else { return }
        guard names.count > keptBackups else { return }
        for name in names.sorted().prefix(names.count - keptBackups) { _ = unlink("\(dir)/\(name)") }
    }
}
