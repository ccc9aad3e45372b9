#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Addressing
import IPAM
import LeaseService
import KernelInventory
import LeaseStore
import Netlink

extension Ipamctl {
    /// Compares each network's leases with what the kernel shows and plans
    /// adopt / keep / release / conflict. A dry run unless `--apply`.
    struct Reconcile: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reconcile leases with the kernel (dry run unless --apply).",
            discussion: """
            Adopts live addresses the store does not know, releases leases whose container is provably \
            gone (its netns no longer exists, or it is from an earlier boot) and reports addresses held \
            twice. Refuses to release anything when the kernel inventory is empty or failed, or when more \
            than --max-release-fraction of the leases would go, unless --force. Takes a backup before applying.
            Run it in the namespace the bridge lives in (the host, for a runtime).
            """)
        @OptionGroup var store: StoreOptions
        @Option(help: "The bridge to inspect (default: the one the plugin recorded for the network).") var bridge: String?
        @Flag(help: "Apply the plan (after a backup). Without it nothing changes.") var apply = false
        @Flag(help: "Release even when the evidence is thin (empty inventory, over the limit). Needs --apply.") var force = false
        @Option(help: "Refuse plans releasing more than this fraction of leases.") var maxReleaseFraction: Double = 0.5
        @Flag(help: "Print the plan as JSON.") var json = false

        func validate() throws {
            if force && !apply { throw ValidationError("--force only makes sense with --apply") }
            guard maxReleaseFraction > 0 && maxReleaseFraction <= 1 else {
                throw ValidationError("--max-release-fraction must be in (0, 1]")
            }
        }

        func run() throws {
            let catalog = StoreCatalog(dataDir: store.dataDir)
            var refused = false
            var reports: [ReconcileReport] = []
            for network in try catalog.selected(store.network) {
                let report = try Reconciler(dataDir: store.dataDir, network: network, bridge: bridge,
                                            policy: ReconcilePolicy(maxReleaseFraction: maxReleaseFraction, force: force,
                                                                    currentBootID: BootID.current)).run(apply: apply)
                refused = refused || report.plan.refusal != nil
                reports.append(report)
            }
            if json { try Output.printJSON(reports) } else { reports.forEach { $0.printTable() } }
            if refused && apply { throw ExitCode(3) }
        }
    }
}

/// One network's reconcile outcome, as printed.
struct ReconcileReport: Encodable {
    var network: String
    var bridge: String
    var inventory: String
    var applied: Bool
    var backup: String?
    var plan: ReconcilePlan

    func printTable() {
        var lines = ["network \(network) (bridge \(bridge), inventory \(inventory)): "
            + "\(plan.adopt.count) adopt, \(plan.release.count) release, \(plan.conflicts.count) conflict(s), \(plan.keep.count) keep"
            + (applied ? " — APPLIED" + (backup.map { ", backup \($0)" } ?? "") : " — dry run, nothing changed")]
        for a in plan.adopt { lines.append("  adopt    \(a.address) live on \(a.hostInterface ?? "?")") }
        for l in plan.release { lines.append("  release  \(l.address) held by \(l.containerID)/\(l.ifname) (container gone)") }
        for c in plan.conflicts { lines.append("  CONFLICT \(c.address): \(c.detail)") }
        if let r = plan.refusal { lines.append("  REFUSED: \(r.message)") }
        Output.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

/// Gathers the inventory and plans (and applies) under the store's lock, so
/// the plan applied is the plan computed from the leases as they are then.
///
/// The evidence is the network's bridge (`--bridge`, or the one the bridge
/// plugin recorded) when there is one; otherwise, for IPAM-only networks
/// (macvlan, ipvlan, ptp over `holdfast-ipam`), every network namespace on the
/// host, filtered to the ranges the store recorded, exactly as ADD reads it.
struct Reconciler {
    var dataDir: String
    var network: String
    var bridge: String?
    var policy: ReconcilePolicy

    func run(apply: Bool) throws -> ReconcileReport {
        let location = try StoreLocation(dataDir: dataDir, network: network)
        let inventory = KernelInventory(netlink: try NetlinkSocket())
        if !apply {
            let store = try LeaseStore.openReadOnly(location)
            return try store.read { txn in
                let gathered = try gather(txn, inventory: inventory)
                return report(gathered, plan: plan(gathered), applied: false, backup: nil)
            }
        }
        let store = try LeaseStore.open(location)
        let now = Date()
        return try store.write(lockTimeout: .seconds(10)) { txn in
            try refuseIfFrozen(txn)
            let gathered = try gather(txn, inventory: inventory)
            let plan = plan(gathered)
            // The backup is taken under the lock, from the state the plan was computed on.
            let backup = try DestructiveGuard.backup(location, action: "reconcile", at: now)
            try applyPlan(plan, gathered, in: txn, now: now, backup: backup)
            return report(gathered, plan: plan, applied: true, backup: backup)
        }
    }

    /// What the store and the kernel say, read inside one transaction.
    struct Gathered {
        var leases: [Lease]
        var source: String
        var inventory: Inventory
        var holder: (ObservedAddress) -> LiveHolder
        var rangeSets: [RangeSet]
    }

    /// Step 1: the leases, the recorded ranges and the kernel's evidence.
    private func gather(_ txn: LeaseTransaction, inventory: KernelInventory) throws -> Gathered {
        let leases = try txn.leases()
        let rangeSets = try PoolRecord.rangeSets(in: txn)
        let existing = Set(leases.compactMap(\.netns).filter(KernelInventory.isNetworkNamespace))
        if let bridgeName = try bridge ?? txn.meta(.bridge) {
            let collected = inventory.collect(bridge: bridgeName, leaseNetnsPaths: leases.compactMap(\.netns))
            let ports = Dictionary(((try? inventory.ports(ofBridge: bridgeName))??.ports ?? []).map { ($0.link.name, $0) },
                                   uniquingKeysWith: { a, _ in a })
            let paths = inventory.netnsPaths(for: Set(collected.observed.compactMap {
                $0.hostInterface.flatMap { ports[$0]?.link.linkNetnsID }
            }))
            return Gathered(leases: leases, source: bridgeName, inventory: collected, holder: { seen in
                let port = seen.hostInterface.flatMap { ports[$0] }
                return LiveHolder(containerID: port?.containerID, ifname: port?.ifname,
                                  netns: port?.link.linkNetnsID.flatMap { paths[$0] })
            }, rangeSets: rangeSets)
        }
        guard !rangeSets.isEmpty else {
            return Gathered(leases: leases, source: Self.namespaceSource,
                            inventory: Inventory(status: .failed("no ranges recorded yet (no ADD since the store was created), "
                                                                  + "so live addresses cannot be told apart; pass --bridge for a bridge network"),
                                                 observed: [], existingNetnsPaths: existing),
                            holder: { _ in LiveHolder() }, rangeSets: rangeSets)
        }
        do {
            let evidence = try NamespaceEvidence.read(NamespaceScan(), rangeSets: rangeSets)
            return Gathered(leases: leases, source: Self.namespaceSource,
                            inventory: Inventory(status: .complete, observed: evidence.observed, existingNetnsPaths: existing),
                            holder: evidence.holder, rangeSets: rangeSets)
        } catch {
            return Gathered(leases: leases, source: Self.namespaceSource,
                            inventory: Inventory(status: .failed("\(error)"), observed: [], existingNetnsPaths: existing),
                            holder: { _ in LiveHolder() }, rangeSets: rangeSets)
        }
    }

    /// Step 2: the pure plan.
    private func plan(_ gathered: Gathered) -> ReconcilePlan {
        ReconcilePlanner.plan(leases: gathered.leases, inventory: gathered.inventory, policy: policy)
    }

    /// Freeze keeps the store exactly as it was during an incident.
    private func refuseIfFrozen(_ txn: LeaseTransaction) throws {
        if let reason = try txn.meta(.frozen) {
            throw ValidationError("network \"\(network)\" is frozen (\(reason)): unfreeze before reconcile --apply")
        }
    }

    /// Step 3: adopt and release through the shared applier, audit, clear the restore marker.
    private func applyPlan(_ plan: ReconcilePlan, _ gathered: Gathered, in txn: LeaseTransaction, now: Date,
                           backup: String) throws {
        let applier = PlanApplier(rangeSets: gathered.rangeSets, now: now, holder: gathered.holder)
        let adopted = try applier.adopt(plan, in: txn)
        let released = try applier.release(plan, in: txn, reason: "reconcile")
        try txn.appendAudit(actor: AuditActor.current(process: "ipamctl").description, action: "reconcile",
                            detail: "adopted \(adopted.count), released \(released.count), "
                                + "conflicts \(plan.conflicts.count)\(policy.force ? ", forced" : ""); backup \(backup)", at: now)
        // Only a complete inventory makes the store current again.
        if case .complete = gathered.inventory.status { try txn.setMeta(.restoredAt, nil) }
    }

    private func report(_ gathered: Gathered, plan: ReconcilePlan, applied: Bool, backup: String?) -> ReconcileReport {
        ReconcileReport(network: network, bridge: gathered.source, inventory: Self.describe(gathered.inventory.status),
                        applied: applied, backup: backup, plan: plan)
    }

    /// The report's `bridge` for IPAM-only networks.
    static let namespaceSource = "(none: every network namespace)"

    static func describe(_ status: InventoryStatus) -> String {
        switch status {
        case .complete: "complete"
        case .failed(let why): "FAILED (\(why))"
        }
    }
}
