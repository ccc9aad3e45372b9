#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import IPAM
import LeaseStore

/// The pool's shape as last configured, kept in the store's meta table so that
/// `ipamctl pools` and metrics can report sizes without the CNI config file.
/// Written by ADD only when it changed, inside the allocation transaction.
public enum PoolRecord {
    /// Records `config`'s range sets and quarantine if they differ from what is stored.
    public static func record(_ config: IPAMConfig, in txn: LeaseTransaction) throws {
        let encoded = String(decoding: try JSONEncoder().encode(config.rangeSets), as: UTF8.self)
        if try txn.meta(MetaKey.ranges) != encoded { try txn.setMeta(MetaKey.ranges, encoded) }
        let q = String(config.quarantine.components.seconds * 1000 + config.quarantine.components.attoseconds / 1_000_000_000_000_000)
        if try txn.meta(MetaKey.quarantineMs) != q { try txn.setMeta(MetaKey.quarantineMs, q) }
    }

    /// The stored range sets; empty when no ADD has recorded them yet.
    public static func rangeSets(in txn: LeaseTransaction) throws -> [RangeSet] {
        guard let text = try txn.meta(MetaKey.ranges) else { return [] }
        return try JSONDecoder().decode([RangeSet].self, from: Data(text.utf8))
    }

    /// The stored quarantine, or the default.
    public static func quarantine(in txn: LeaseTransaction) throws -> Duration {
        guard let text = try txn.meta(MetaKey.quarantineMs), let ms = Int64(text) else { return IPAMConfig.defaultQuarantine }
        return .milliseconds(ms)
    }
}
