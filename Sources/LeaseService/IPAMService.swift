#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import IPAM
import LeaseStore

/// Allocation, release, GC and status for one network's store.
///
/// Shared by `holdfast-ipam` (exec'd by any main plugin) and `holdfast`
/// (in-process, so the bridge plugin pays for one process and one store
/// transaction per ADD). Every mutation runs inside `LeaseStore.write`, that is
/// under the network's flock with a deadline and committed with `fsync` before
/// the caller prints a result.
public final class IPAMService {
    public let network: String
    public let config: IPAMConfig
    public let store: LeaseStore
    /// When this run started: the lock wait is budgeted so that the whole run
    /// ends within `lockTimeoutMs` of it (see `lockBudget()`). The CNI adapter
    /// passes the plugin process's start; other callers, their own.
    public let started: ContinuousClock.Instant
    /// Injected so tests can move time (quarantine expiry).
    public var now: @Sendable () -> Date = { Date() }

    /// Opens (or creates) the network's store.
    /// - Throws: `StoreError` for an invalid network name or a corrupt store.
    public init(network: String, config: IPAMConfig, started: ContinuousClock.Instant = .now) throws {
        self.network = network
        self.config = config
        self.started = started
        self.store = try LeaseStore.open(StoreLocation(dataDir: config.dataDir, network: network))
    }

    /// Returns the attachment's leases, allocating one address per range set if
    /// it has none. A retried ADD for the same attachment gets its existing
    /// leases back, never a second set.
    ///
    /// `requested` addresses (CNI_ARGS `IP=`, `args.cni.ips`, `runtimeConfig.ips`)
    /// are placed in the range set that contains them; the others allocate
    /// round-robin.
    ///
    /// `liveAddresses` runs inside the transaction, under the lock, before any
    /// candidate is chosen: the bridge plugin uses it to compare the store with
    /// the kernel, record (adopt) live addresses the store does not know, and
    /// return every address it saw live so none of them is handed out. It is the
    /// last line of defence against giving a running container's address away.
    ///
    /// `beforeCommit` runs last inside the same transaction, after the leases
    /// are written (the bridge plugin stamps the kernel with the store's state
    /// there, so the next ADD can prove the store current in O(1)).
    ///
    /// In cluster mode the range sets are the blocks this node owns (see
    /// `IPAMService+Cluster.swift`, which wraps this with block claims).
    func allocateInStore(_ attachment: Attachment, details: AttachmentDetails, requested: [IPAddress] = [],
                         liveAddresses: (LeaseTransaction) throws -> Set<IPAddress> = { _ in [] },
                         beforeCommit: (LeaseTransaction) throws -> Void = { _ in }) throws -> Allocation {
        let now = self.now()
        return try guardedWrite(counting: { _, a in (a.reused ? 0 : a.leases.count, 0) }) { txn in
            // 1. First, before anything changes: the live-address proof (and any adoption).
            let live = try liveAddresses(txn)
            // 2. A retried ADD gets its existing leases back.
            if let reused = try reuseExisting(attachment, details: details, in: txn) {
                try beforeCommit(txn)
                return reused
            }
            // 3. Guards: frozen, then the rate limit (the time now, under the lock:
            //    `now` above was read before the wait).
            if let reason = try txn.meta(MetaKey.frozen) {
                throw IPAMServiceError.frozen(network: network, reason: reason)
            }
            try RateLimiter.take(txn, config.operations.rateLimit, network: network, now: self.now())
            // 4. One new lease per range set, never a live address.
            let leases = try allocateNew(attachment, details: details, requested: requested, live: live,
                                         rangeSets: try allocationRangeSets(in: txn), now: now, in: txn)
            // 5. Record the pool and let the caller stamp, in the same transaction.
            try PoolRecord.record(config, in: txn)
            try beforeCommit(txn)
            return Allocation(leases: leases, reused: false)
        }
    }

    /// Releases the attachment's leases. Idempotent: no lease is success.
    /// While the network is frozen the leases move to `pendingRelease` instead,
    /// and `unfreeze` releases them.
    ///
    /// `hostInterface` finds leases that reconcile adopted from the kernel
    /// without learning their container (attributed to the port instead).
    @discardableResult
    ///
    /// `beforeChange` runs first in the transaction and `beforeCommit` last, when
    /// anything was released (the bridge plugin checks its stamp before and
    /// re-stamps after).
    public func release(_ attachment: Attachment, hostInterface: String? = nil, reason: String = "del",
                        beforeChange: (LeaseTransaction) throws -> Void = { _ in },
                        beforeCommit: (LeaseTransaction) throws -> Void = { _ in }) throws -> [Lease] {
        let now = self.now()
        return try guardedWrite(counting: { txn, l in (0, try txn.meta(MetaKey.frozen) == nil ? l.count : 0) }) { txn in
            try beforeChange(txn)
            let leases = try releaseLeases(attachment, hostInterface: hostInterface, reason: reason, now: now, in: txn)
            if !leases.isEmpty { try beforeCommit(txn) }
            return leases
        }
    }

    /// The attachment's current leases, read without the writer's lock.
    public func leases(for attachment: Attachment) throws -> [Lease] {
        try store.read { try $0.leases(containerID: attachment.containerID, ifname: attachment.ifname) }
    }

    /// Releases every lease whose attachment is not in `valid` (CNI GC).
    ///
    /// Refuses, releasing nothing, when `valid` is empty while leases exist, or
    /// when it would release more than `config.maxReleaseFraction` of them,
    /// unless `force` is set: an empty or truncated list from a confused runtime
    /// must never wipe a network (DESIGN.md invariant 6).
    @discardableResult
    public func garbageCollect(valid: Set<Attachment>, force: Bool = false) throws -> [Lease] {
        let now = self.now()
        return try guardedWrite(counting: { _, stale in (0, stale.count) }) { txn in
            if let reason = try txn.meta(MetaKey.frozen) {
                throw IPAMServiceError.frozen(network: network, reason: reason)
            }
            let all = try txn.leases()
            // Leases adopted from the kernel without knowing their container can
            // never appear in a runtime's list: they are reconcile's to judge (on
            // netns evidence), never GC's.
            let stale = all.filter {
                !$0.containerID.hasPrefix(Self.adoptedPrefix)
                    && !valid.contains(Attachment(containerID: $0.containerID, ifname: $0.ifname))
            }
            if !force && !stale.isEmpty {
                if valid.isEmpty {
                    throw IPAMServiceError.massReleaseRefused(
                        "GC refused: cni.dev/valid-attachments is empty but \(all.count) lease(s) exist; "
                        + "an empty list is treated as a failed inventory. Dry-run with `ipamctl release --all`, "
                        + "then force with `ipamctl release --all --apply --force`")
                }
                let limit = Int((Double(all.count) * config.maxReleaseFraction).rounded(.down))
                if stale.count > max(limit, 1) {
                    throw IPAMServiceError.massReleaseRefused(
                        "GC refused: it would release \(stale.count) of \(all.count) lease(s), more than the limit "
                        + "of \(Int(config.maxReleaseFraction * 100))% (ipam.maxReleaseFraction); "
                        + "dry-run with `ipamctl release`, then force with `--apply --force`")
                }
            }
            // Backup first and an audit record, like every destructive path.
            if stale.isEmpty { return stale }
            return try DestructiveGuard.run(
                in: txn, location: store.location, action: "gc", releasing: stale.count, live: all.count, radius: nil,
                force: force, actor: AuditActor.current(process: "cni-gc"),
                detail: "released \(stale.count) of \(all.count) lease(s) not in cni.dev/valid-attachments: \(DestructiveGuard.describe(stale))",
                at: now) {
                for lease in stale { try txn.release(lease, reason: "gc", at: now) }
                return stale
            }.result
        }
    }
}

extension IPAMService {
    /// Container ID given to a lease adopted from a port with no Holdfast alias.
    public static let adoptedPrefix = "adopted-"
}

/// The outcome of `IPAMService.allocate`.
public struct Allocation: Sendable {
    /// One lease per range set, in range-set order.
    public var leases: [Lease]
    /// True when the attachment already held these leases (a retried ADD): a
    /// failing caller must not release them on rollback.
    public var reused: Bool
}
