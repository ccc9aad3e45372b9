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
struct Reconciler {
    var dataDir: String
    var network: String
    var bridge: String?
    var policy: ReconcilePolicy

    func run(apply: Bool) throws -> ReconcileReport {
        let location = try StoreLocation(dataDir: dataDir, network: network)
        let netlink = try NetlinkSocket()
        let inventory = KernelInventory(netlink: netlink)
        if !apply {
            let store = try LeaseStore.openReadOnly(location)
            let (leases, bridgeName) = try store.read { txn in (try txn.leases(), try resolveBridge(txn)) }
            let collected = inventory.collect(bridge: bridgeName, leaseNetnsPaths: leases.compactMap(\.netns))
            let plan = ReconcilePlanner.plan(leases: leases, inventory: collected, policy: policy)
            return ReconcileReport(network: network, bridge: bridgeName, inventory: Self.describe(collected.status),
                                   applied: false, plan: plan)
        }
        let store = try LeaseStore.open(location)
        let now = Date()
        return try store.write(lockTimeout: .seconds(10)) { txn in
            // Freeze keeps the store exactly as it was during an incident.
            if let reason = try txn.meta(MetaKey.frozen) {
                throw ValidationError("network \"\(network)\" is frozen (\(reason)): unfreeze before reconcile --apply")
            }
            let bridgeName = try resolveBridge(txn)
            let leases = try txn.leases()
            let collected = inventory.collect(bridge: bridgeName, leaseNetnsPaths: leases.compactMap(\.netns))
            let plan = ReconcilePlanner.plan(leases: leases, inventory: collected, policy: policy)
            // The backup is taken under the lock, from the state the plan was computed on.
            let backup = try DestructiveGuard.backup(location, action: "reconcile", at: now)
            let rangeSets = try PoolRecord.rangeSets(in: txn)
            let ports = Dictionary(((try? inventory.ports(ofBridge: bridgeName))??.ports ?? []).map { ($0.link.name, $0) },
                                   uniquingKeysWith: { a, _ in a })
            let netnsPaths = inventory.netnsPaths(for: Set(plan.adopt.compactMap {
                $0.hostInterface.flatMap { ports[$0]?.link.linkNetnsID }
            }))
            for seen in plan.adopt {
                guard try txn.lease(at: seen.address) == nil else { continue }
                let port = seen.hostInterface.flatMap { ports[$0] }
                try txn.insert(Lease(address: seen.address,
                                     rangeSetIndex: rangeSets.firstIndex { $0.range(containing: seen.address) != nil } ?? 0,
                                     containerID: port?.containerID ?? "\(IPAMService.adoptedPrefix)\(seen.hostInterface ?? "unknown")",
                                     ifname: port?.ifname ?? "unknown",
                                     netns: seen.netnsPath ?? port?.link.linkNetnsID.flatMap { netnsPaths[$0] }, createdAt: now,
                                     hostInterface: seen.hostInterface, hostIfindex: seen.hostIfindex, bootID: BootID.current))
            }
            if plan.refusal == nil {
                try DestructiveGuard.release(plan.release, in: txn, reason: "reconcile", at: now)
            }
            try txn.appendAudit(actor: AuditActor.current(process: "ipamctl").description, action: "reconcile",
                                detail: "adopted \(plan.adopt.count), released \(plan.refusal == nil ? plan.release.count : 0), "
                                    + "conflicts \(plan.conflicts.count)\(policy.force ? ", forced" : ""); backup \(backup)", at: now)
            try txn.setMeta(LeaseStore.restoredMarkerKey, nil)
            return ReconcileReport(network: network, bridge: bridgeName, inventory: Self.describe(collected.status),
                                   applied: true, backup: backup, plan: plan)
        }
    }

    private func resolveBridge(_ txn: LeaseTransaction) throws -> String {
        if let bridge { return bridge }
        guard let recorded = try txn.meta(BridgeRecord.key) else {
            throw ValidationError("network \"\(network)\" has no recorded bridge (no holdfast ADD yet); pass --bridge")
        }
        return recorded
    }

    static func describe(_ status: InventoryStatus) -> String {
        switch status {
        case .complete: "complete"
        case .failed(let why): "FAILED (\(why))"
        }
    }
}
