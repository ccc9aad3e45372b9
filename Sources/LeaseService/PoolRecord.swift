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
        // Appended byte by byte: `joined(separator:)` runs unspecialised here
        // and its first call cost a runtime conformance lookup (≈190 k
        // instructions) on every ADD.
        var out: [UInt8] = []
        out.reserveCapacity(160 * max(rangeSets.count, 1))
        func append(_ text: String) { out.append(contentsOf: text.utf8) }
        func field(_ name: String, _ value: String, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            append("\"\(name)\":\"")
            for byte in value.utf8 {
                if byte == UInt8(ascii: "/") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "["))
        for (s, set) in rangeSets.enumerated() {
            if s > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            for (r, range) in set.ranges.enumerated() {
                if r > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "{"))
                field("subnet", range.subnet.description, first: true)
                field("rangeStart", range.rangeStart.description)
                field("rangeEnd", range.rangeEnd.description)
                if let gateway = range.gateway { field("gateway", gateway.description) }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
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
