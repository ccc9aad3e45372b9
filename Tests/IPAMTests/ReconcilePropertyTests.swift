import Testing
import Foundation
import Addressing
@testable import IPAM

/// Generates random but plausible (leases, inventory, policy) triples from a seed.
/// Small pools (16 addresses, 8 netns paths, 3 boot ids, 4 veths, 3 MACs) make
/// collisions, duplicates and conflicts common, which is where bugs hide.
struct ReconcileCase {
    var leases: [Lease]
    var inventory: Inventory
    var policy: ReconcilePolicy

    init(seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        func pick<T>(_ xs: [T]) -> T { xs.randomElement(using: &g)! }
        func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &g) < p }
        let addresses = (2..<18).map { ip("10.0.0.\($0)") }
        let paths: [String?] = [nil] + (0..<8).map { "/run/netns/n\($0)" }
        let boots: [String?] = [nil, "boot-a", "boot-b"]
        let veths: [String?] = [nil, "veth0", "veth1", "veth2", "veth3"]
        let macs: [String?] = [nil, "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:0A"]

        var leases: [Lease] = []
        for i in 0..<Int.random(in: 0...14, using: &g) {
            leases.append(Lease(address: pick(addresses), rangeSetIndex: 0, containerID: "c\(i)", ifname: "eth0",
                                netns: pick(paths), createdAt: Date(timeIntervalSince1970: Double(i)),
                                hostInterface: pick(veths), containerMAC: pick(macs), bootID: pick(boots),
                                state: chance(0.1) ? .pendingRelease : .active))
        }
        var observed: [ObservedAddress] = []
        for _ in 0..<Int.random(in: 0...12, using: &g) {
            observed.append(ObservedAddress(address: pick(addresses), hostInterface: pick(veths),
                                            hostIfindex: chance(0.3) ? Int.random(in: 1...3, using: &g) : nil,
                                            netnsID: chance(0.3) ? pick(["0", "1"]) : nil,
                                            netnsPath: pick(paths), mac: pick(macs)))
        }
        let existing = Set(paths.compactMap { $0 }.filter { _ in chance(0.5) })
        let status: InventoryStatus = chance(0.2) ? .failed("injected") : .complete
        inventory = Inventory(status: status, observed: observed, existingNetnsPaths: existing)
        policy = ReconcilePolicy(maxReleaseFraction: pick([0.0, 0.25, 0.5, 1.0]),
                                 maxReleaseCount: pick([nil, 0, 1, 3]),
                                 force: chance(0.4), currentBootID: pick(boots))
        self.leases = leases
    }
}

@Suite("ReconcilePlanner properties")
struct ReconcilePropertyTests {
    static let cases: UInt64 = 10_000

    /// The product's first invariant, checked on many generated cases, force included:
    /// no plan ever releases an address present in the inventory.
    @Test func neverReleasesALiveAddress() {
        var releasedSomething = 0, forcedReleases = 0, refusals = 0
        for seed in 0..<Self.cases {
            let c = ReconcileCase(seed: seed)
            let plan = ReconcilePlanner.plan(leases: c.leases, inventory: c.inventory, policy: c.policy)
            let live = Set(c.inventory.observed.map(\.address))
            let bad = plan.release.filter { live.contains($0.address) }
            #expect(bad.isEmpty, "seed \(seed): released live \(bad.map(\.address))")
            if !plan.release.isEmpty { releasedSomething += 1 }
            if c.policy.force && !plan.release.isEmpty { forcedReleases += 1 }
            if plan.refusal != nil { refusals += 1 }
        }
        // The generator must actually exercise releases, forced ones and refusals,
        // or the property above would hold vacuously.
        #expect(releasedSomething > 1000)
        #expect(forcedReleases > 500)
        #expect(refusals > 1000)
    }

    /// Structural properties of every plan.
    @Test func plansAreConsistent() {
        for seed in 0..<Self.cases {
            let c = ReconcileCase(seed: seed)
            let plan = ReconcilePlanner.plan(leases: c.leases, inventory: c.inventory, policy: c.policy)
            let tag = "seed \(seed)"

            // keep and release partition the leases (as multisets).
            var counts: [Lease: Int] = [:]
            for l in c.leases { counts[l, default: 0] += 1 }
            for l in plan.keep + plan.release { counts[l, default: 0] -= 1 }
            #expect(counts.values.allSatisfy { $0 == 0 }, "\(tag): keep+release is not a partition")

            // Refusal means nothing is released; force means no refusal.
            if plan.refusal != nil { #expect(plan.release.isEmpty, "\(tag)") }
            if c.policy.force { #expect(plan.refusal == nil, "\(tag)") }
            if !c.policy.force, case .failed = c.inventory.status, !c.leases.isEmpty {
                #expect(plan.release.isEmpty, "\(tag): released on a failed inventory")
            }

            // Every release is provably gone.
            for l in plan.release {
                let netnsGone = l.netns.map { !c.inventory.existingNetnsPaths.contains($0) }
                let bootGone = c.policy.currentBootID != nil && l.bootID != nil && l.bootID != c.policy.currentBootID
                    && (netnsGone ?? true)
                #expect(netnsGone == true || bootGone, "\(tag): released \(l.address) without proof")
                #expect(!plan.conflicts.contains { $0.address == l.address }, "\(tag): released a conflicted address")
                #expect(c.leases.filter { $0.address == l.address }.count == 1, "\(tag): released a duplicate lease")
            }

            // Adopted addresses are live, unleased and unique.
            let leased = Set(c.leases.map(\.address))
            let live = Set(c.inventory.observed.map(\.address))
            #expect(Set(plan.adopt.map(\.address)).count == plan.adopt.count, "\(tag)")
            for a in plan.adopt {
                #expect(live.contains(a.address) && !leased.contains(a.address), "\(tag): adopted \(a.address)")
            }

            // Without force, netns-evidence releases respect the blast-radius limits.
            if !c.policy.force {
                let netnsOnly = plan.release.filter { l in
                    !(c.policy.currentBootID != nil && l.bootID != nil && l.bootID != c.policy.currentBootID)
                }.count
                #expect(Double(netnsOnly) <= c.policy.maxReleaseFraction * Double(c.leases.count), "\(tag)")
                if let limit = c.policy.maxReleaseCount { #expect(netnsOnly <= limit, "\(tag)") }
                if c.inventory.observed.isEmpty { #expect(netnsOnly == 0, "\(tag)") }
            }

            // Deterministic: the same input gives the same plan.
            #expect(plan == ReconcilePlanner.plan(leases: c.leases, inventory: c.inventory, policy: c.policy), "\(tag)")
        }
    }
}
