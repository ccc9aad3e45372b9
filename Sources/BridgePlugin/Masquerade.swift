import Addressing

/// Source NAT for a network's containers, as one nftables table per network.
///
/// The table holds two address sets (IPv4, IPv6) and one postrouting chain
/// whose rules masquerade traffic from a set member to anywhere outside the
/// network's subnets and multicast. ADD adds the container's addresses to the
/// sets; DEL deletes exactly those elements, which it can do from the lease
/// alone, so nothing leaks when the container's netns is already gone (the
/// reference plugin's per-container chains leak in that case).
public struct Masquerade {
    /// `holdfast_<network, sanitised>_<hash>`: unique per network and a valid nft identifier.
    public let table: String
    public let subnets: [IPNetwork]

    public init(network: String, subnets: [IPNetwork]) {
        table = Self.tableName(for: network)
        self.subnets = subnets.map(\.network)
    }

    /// The network's nftables table name (also used, in the bridge family, by `MacSpoofCheck`).
    static func tableName(for network: String) -> String {
        let hash = fnv1a(network)
        let clean = String(network.prefix(32).map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        return "holdfast_\(clean)_\(String(hash, radix: 16))"
    }

    /// Adds `addresses` to the sets, creating the table, sets and rules first
    /// when they are missing or were made for other subnets.
    ///
    /// The steady state is one small batch: the elements, plus an element
    /// added to the marker set `cfg_<hash of the subnets>`, which exists only
    /// when the rules were made for these subnets; when it does not, the whole
    /// (atomic) batch fails, and only then is the table set up. The batch adds
    /// and never deletes: the kernel frees deleted objects after an RCU grace
    /// period, and the next release of any nftables socket (ours, at exit)
    /// waits for that free. An earlier marker that was deleted and re-added on
    /// every ADD cost each ADD 12–15 ms that way, and rebuilding the chain on
    /// every ADD about 10 ms (docs/benchmarks.md). The set-up batch flushes and
    /// refills the chain and swaps the marker set in one transaction, so the
    /// chain holds exactly two rules however many first ADDs raced.
    public func add(_ addresses: [IPAddress]) throws(MasqueradeError) {
        guard !addresses.isEmpty else { return }
        var elements = ""
        for a in addresses { elements += "add element inet \(table) \(a.isIPv4 ? "masq4" : "masq6") { \(a) }\n" }
        let marker = markerSet
        let operation = "add masquerade for \(addresses.map(\.description).joined(separator: ", "))"
        let ctx = try NftablesContext()
        if (try? ctx.run(elements + "add element inet \(table) \(marker) { 0.0.0.1 }\n", operation: operation)) != nil {
            return
        }
        // Markers of earlier subnets (and the `cfg` set of releases before this one) go in the same batch.
        let listing = (try? ctx.run("list sets inet\n", operation: "list sets")) ?? ""
        let stale = Self.markerSets(in: listing, table: table).filter { $0 != marker }
        let v4 = subnets.filter(\.address.isIPv4).map(\.description)
        let v6 = subnets.filter { !$0.address.isIPv4 }.map(\.description)
        let setup = """
        add table inet \(table)
        add set inet \(table) masq4 { type ipv4_addr; }
        add set inet \(table) masq6 { type ipv6_addr; }
        add chain inet \(table) postrouting { type nat hook postrouting priority srcnat; policy accept; }
        flush chain inet \(table) postrouting
        add rule inet \(table) postrouting ip saddr @masq4 ip daddr != { \((v4 + ["224.0.0.0/4"]).joined(separator: ", ")) } masquerade
        add rule inet \(table) postrouting ip6 saddr @masq6 ip6 daddr != { \((v6 + ["ff00::/8"]).joined(separator: ", ")) } masquerade
        \(stale.map { "delete set inet \(table) \($0)\n" }.joined())add set inet \(table) \(marker) { type ipv4_addr; }
        add element inet \(table) \(marker) { 0.0.0.1 }

        """
        try ctx.run(setup + elements, operation: operation)
    }

    /// The marker set's name: `cfg_` and an FNV-1a hash of the sorted subnets
    /// the rules were made for.
    var markerSet: String {
        let hex = String(Self.fnv1a(subnets.map(\.description).sorted().joined(separator: ",")), radix: 16)
        return "cfg_" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// The marker sets (`cfg`, `cfg_…`) of `table` in an `nft list sets inet`
    /// listing, which groups sets under `table inet NAME {` lines.
    static func markerSets(in listing: String, table: String) -> [String] {
        var current: Substring = ""
        var found: [String] = []
        for line in listing.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2 else { continue }
            if words.count >= 3, words[0] == "table", words[1] == "inet" { current = words[2] }
            if current == table, words[0] == "set", words[1] == "cfg" || words[1].hasPrefix("cfg_") { found.append(String(words[1])) }
        }
        return found
    }

    /// 32-bit FNV-1a: short, stable names and marks from arbitrary text.
    static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 0x811c_9dc5
        for b in text.utf8 { hash ^= UInt32(b); hash &*= 0x0100_0193 }
        return hash
    }

    /// Removes `addresses` from the sets. Best effort per address: an element or
    /// table that is already gone is success (DEL must be idempotent).
    public func remove(_ addresses: [IPAddress]) throws(MasqueradeError) {
        guard !addresses.isEmpty else { return }
        let ctx = try NftablesContext()
        var failures: [String] = []
        for a in addresses {
            do {
                try ctx.run("delete element inet \(table) \(a.isIPv4 ? "masq4" : "masq6") { \(a) }\n", operation: "delete")
            } catch {
                if !error.message.contains("No such file or directory") { failures.append("\(a): \(error.message)") }
            }
        }
        if !failures.isEmpty {
            throw MasqueradeError(operation: "remove masquerade", message: failures.joined(separator: "; "))
        }
    }

    /// Whether each address is a member of the table's sets (for CHECK).
    public func contains(_ address: IPAddress) -> Bool {
        guard let ctx = try? NftablesContext() else { return false }
        return (try? ctx.run("get element inet \(table) \(address.isIPv4 ? "masq4" : "masq6") { \(address) }\n",
                             operation: "get")) != nil
    }
}
