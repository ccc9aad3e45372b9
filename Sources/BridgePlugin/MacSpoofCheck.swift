import Addressing

/// `macspoofchk`: frames entering the bridge from a container's port must carry
/// that container's MAC, or they are dropped.
///
/// One nftables table per network in the bridge family: a set of guarded ports
/// and a set of (port, MAC) pairs, with one rule dropping frames from a guarded
/// port whose pair is not in the set. ADD and DEL add and remove set elements,
/// so the rule count never grows with the number of containers, and DEL needs
/// only the port name and the MAC recorded in the lease.
struct MacSpoofCheck {
    let table: String

    init(network: String) {
        table = Masquerade.tableName(for: network)
    }

    func add(port: String, mac: MACAddress) throws(MasqueradeError) {
        try NftablesContext().run("""
        add table bridge \(table)
        add set bridge \(table) ports { type ifname; }
        add set bridge \(table) allowed { type ifname . ether_addr; }
        add chain bridge \(table) prerouting { type filter hook prerouting priority -300; policy accept; }
        flush chain bridge \(table) prerouting
        add rule bridge \(table) prerouting iifname @ports iifname . ether saddr != @allowed drop
        add element bridge \(table) allowed { "\(port)" . \(mac) }
        add element bridge \(table) ports { "\(port)" }

        """, operation: "add MAC spoof check for \(port)")
    }

    /// Best effort and idempotent, like DEL.
    func remove(port: String, mac: MACAddress?) {
        guard let ctx = try? NftablesContext() else { return }
        _ = try? ctx.run("delete element bridge \(table) ports { \"\(port)\" }\n", operation: "delete")
        if let mac { _ = try? ctx.run("delete element bridge \(table) allowed { \"\(port)\" . \(mac) }\n", operation: "delete") }
    }
}
