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
        let encoded = encode(config.rangeSets)
        if try txn.meta(MetaKey.ranges) != encoded { try txn.setMeta(MetaKey.ranges, encoded) }
        let q = String(config.quarantine.components.seconds * 1000 + config.quarantine.components.attoseconds / 1_000_000_000_000_000)
        if try txn.meta(MetaKey.quarantineMs) != q { try txn.setMeta(MetaKey.quarantineMs, q) }
    }

    /// The JSON `JSONEncoder().encode(rangeSets)` produces (a unit test compares
    /// them), written directly: this runs in every ADD, and `Encodable` cost
    /// half a million instructions here. Unlike JSONEncoder's, whose key order
    /// varies from process to process, the text is the same every time, so an
    /// unchanged pool is not rewritten by every ADD. Addresses and prefixes
    /// contain only hex digits, `.`, `:` and `/` (written `\/`, as before).
    static func encode(_ rangeSets: [RangeSet]) -> String {
        func quoted(_ text: String) -> String {
            var bytes: [UInt8] = [UInt8(ascii: "\"")]
            for byte in text.utf8 {
                if byte == UInt8(ascii: "/") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
            return String(decoding: bytes, as: UTF8.self)
        }
        let sets = rangeSets.map { set in
            let ranges = set.ranges.map { range in
                var fields = ["\"subnet\":" + quoted(range.subnet.description),
                              "\"rangeStart\":" + quoted(range.rangeStart.description),
                              "\"rangeEnd\":" + quoted(range.rangeEnd.description)]
                if let gateway = range.gateway { fields.append("\"gateway\":" + quoted(gateway.description)) }
                return "{" + fields.joined(separator: ",") + "}"
            }
            return "[" + ranges.joined(separator: ",") + "]"
        }
        return "[" + sets.joined(separator: ",") + "]"
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
