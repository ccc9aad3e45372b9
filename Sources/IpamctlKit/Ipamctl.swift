import ArgumentParser
import HoldfastVersion

/// `ipamctl`: inspect and operate Holdfast lease stores.
///
/// Read commands open stores read-only and never take the allocation lock, so
/// an operator (or a metrics scrape) can never stall ADD/DEL. Destructive
/// commands dry-run by default.
public struct Ipamctl: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ipamctl",
        abstract: "Inspect and operate Holdfast IPAM lease stores.",
        version: HoldfastVersion.string,
        subcommands: [Leases.self, Show.self, History.self, Pools.self, Reconcile.self, Metrics.self, Freeze.self,
                      Unfreeze.self, Release.self, Backup.self, Restore.self, Audit.self, ClusterCommand.self])

    public init() {}
}

/// Options every subcommand shares: where the stores are and which network.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Directory holding one store per network (the ipam dataDir).")
    var dataDir: String = "/var/lib/holdfast/networks"

    @Option(name: [.short, .long], help: "Only this network (default: every network under --data-dir).")
    var network: String?
}
