#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import IPAM
import LeaseStore

/// Read-only mode for a network (`ipamctl freeze` / `unfreeze`).
///
/// While frozen (meta `frozen` = the operator's reason, durable in the store):
/// ADD fails fast with CNI 11 naming the reason; DEL tears down networking and
/// succeeds, but its leases only move to `pendingRelease`; STATUS answers 50.
/// `unfreeze` clears the flag and releases the pending leases in the same
/// transaction, so no DEL is lost and no address is reused while frozen.
public enum FreezeControl {
    /// Freezes (or re-words the reason of) the network; audited.
    public static func freeze(_ store: LeaseStore, reason: String, actor: AuditActor,
                              lockTimeout: Duration, at now: Date = Date()) throws {
        try store.write(lockTimeout: lockTimeout) { txn in
            let previous = try txn.meta(MetaKey.frozen)
            try txn.setMeta(MetaKey.frozen, reason)
            try txn.appendAudit(actor: actor.description, action: "freeze",
                                detail: previous.map { "reason changed from \"\($0)\" to \"\(reason)\"" } ?? "reason: \(reason)", at: now)
        }
    }

    /// What `unfreeze` did.
    public struct Unfrozen: Sendable {
        /// False when the network was not frozen (nothing changed).
        public var wasFrozen: Bool
        public var reason: String?
        /// The pending releases applied.
        public var released: [Lease]
        /// Backup taken before releasing, when anything was released.
        public var backup: String?
    }

    /// Clears the freeze and applies pending releases, all in one transaction
    /// (backup first when there is anything to release; audited). Not frozen:
    /// changes nothing. Pending leases are what DEL asked for, so no blast limit.
    public static func unfreeze(_ store: LeaseStore, actor: AuditActor, lockTimeout: Duration,
                                at now: Date = Date()) throws -> Unfrozen {
        try store.write(lockTimeout: lockTimeout) { txn in
            guard let reason = try txn.meta(MetaKey.frozen) else {
                return Unfrozen(wasFrozen: false, reason: nil, released: [], backup: nil)
            }
            let pending = try txn.leases().filter { $0.state == .pendingRelease }
            var backup: String?
            if pending.isEmpty {
                try txn.appendAudit(actor: actor.description, action: "unfreeze", detail: "was frozen: \(reason)", at: now)
            } else {
                backup = try DestructiveGuard.run(
                    in: txn, location: store.location, action: "unfreeze", releasing: pending.count, live: pending.count,
                    radius: nil, force: false, actor: actor,
                    detail: "was frozen: \(reason); released \(pending.count) pending lease(s): \(DestructiveGuard.describe(pending))",
                    at: now) {
                    try DestructiveGuard.release(pending, in: txn, reason: "del", at: now)
                }.backup
            }
            try txn.setMeta(MetaKey.frozen, nil)
            return Unfrozen(wasFrozen: true, reason: reason, released: pending, backup: backup)
        }
    }
}
