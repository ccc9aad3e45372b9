import Testing
import Foundation
import Addressing
@testable import IPAM

func lease(_ address: String, netns: String? = nil, boot: String? = "boot-now", veth: String? = nil,
           mac: String? = nil, id: String? = nil) -> Lease {
    Lease(address: ip(address), rangeSetIndex: 0, containerID: id ?? "c-\(address)", ifname: "eth0", netns: netns,
          createdAt: Date(timeIntervalSince1970: 1_700_000_000), hostInterface: veth, containerMAC: mac, bootID: boot)
}

func seen(_ address: String, veth: String? = nil, ifindex: Int? = nil, nsid: String? = nil, mac: String? = nil) -> ObservedAddress {
    ObservedAddress(address: ip(address), hostInterface: veth, hostIfindex: ifindex, netnsID: nsid, mac: mac)
}

let now = ReconcilePolicy(currentBootID: "boot-now")

@Suite("ReconcilePlanner")
struct ReconcilePlannerTests {
    /// Four leases: two live, one with its netns gone, one whose netns exists but
    /// whose address was not seen (not provably gone).
    @Test func releasesOnlyProvablyGoneHolders() {
        let leases = [lease("10.0.0.2", netns: "/run/netns/a", veth: "veth-a"),
                      lease("10.0.0.3", netns: "/run/netns/b"),
                      lease("10.0.0.4", netns: "/run/netns/gone"),
                      lease("10.0.0.5", netns: "/run/netns/d")]
        let inv = Inventory(status: .complete,
                            observed: [seen("10.0.0.2", veth: "veth-a"), seen("10.0.0.3", veth: "veth-b"), seen("10.0.0.9", veth: "veth-x")],
                            existingNetnsPaths: ["/run/netns/a", "/run/netns/b", "/run/netns/d"])
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: now)
        #expect(plan.refusal == nil)
        #expect(plan.release == [leases[2]])
        #expect(plan.keep == [leases[0], leases[1], leases[3]])
        #expect(plan.adopt == [seen("10.0.0.9", veth: "veth-x")])
        #expect(plan.conflicts.isEmpty)
    }

    @Test func leaseWithoutNetnsFromThisBootIsKept() {
        let leases = [lease("10.0.0.2"), lease("10.0.0.3", netns: "/run/netns/b")]
        let inv = Inventory(status: .complete, observed: [seen("10.0.0.3")], existingNetnsPaths: ["/run/netns/b"])
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: now)
        #expect(plan.release.isEmpty)
        #expect(plan.keep == leases)
    }

    @Test func emptyInventoryRefuses() {
        let leases = [lease("10.0.0.2", netns: "/run/netns/a"), lease("10.0.0.3", netns: "/run/netns/b")]
        let inv = Inventory(status: .complete, observed: [], existingNetnsPaths: [])
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: now)
        #expect(plan.release.isEmpty)
        #expect(plan.keep == leases)
        let refusal = try! #require(plan.refusal)
        #expect(refusal.reason == .inventoryEmpty)
        #expect(refusal.wouldRelease == leases)
        #expect(refusal.message.contains("refusing to release 2 of 2 leases"))
        #expect(refusal.message.contains("rerun with --force after a dry run"))
    }

    @Test func failedInventoryRefusesEvenBootStaleLeases() {
        let leases = [lease("10.0.0.2", netns: "/run/netns/a"), lease("10.0.0.3", boot: "boot-old"),
                      lease("10.0.0.4", netns: "/run/netns/c"), lease("10.0.0.5", netns: "/run/netns/d")]
        let inv = Inventory(status: .failed("netlink dump: EPERM"), observed: [seen("10.0.0.4"), seen("10.0.0.5")],
                            existingNetnsPaths: ["/run/netns/c", "/run/netns/d"])
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: now)
        #expect(plan.release.isEmpty)
        #expect(plan.refusal?.reason == .inventoryFailed("netlink dump: EPERM"))
        #expect(plan.refusal?.message.contains("EPERM") == true)
        #expect(plan.refusal?.wouldRelease.count == 2)
        // Adopting is non-destructive and still reported.
        #expect(plan.adopt.isEmpty)
    }

    @Test func failedInventoryWithNoLeasesIsNotARefusal() {
        let inv = Inventory(status: .failed("timeout"), observed: [seen("10.0.0.7")], existingNetnsPaths: [])
        let plan = ReconcilePlanner.plan(leases: [], inventory: inv, policy: now)
        #expect(plan.refusal == nil)
        #expect(plan.adopt.map(\.address) == [ip("10.0.0.7")])
    }

    @Test func forceOverridesRefusalButNeverReleasesALiveAddress() {
        let leases = [lease("10.0.0.2", netns: "/run/netns/gone"), lease("10.0.0.3", netns: "/run/netns/gone2")]
        let inv = Inventory(status: .failed("partial"), observed: [seen("10.0.0.3")], existingNetnsPaths: [])
        var policy = now
        policy.force = true
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: policy)
        #expect(plan.refusal == nil)
        #expect(plan.release == [leases[0]])
        #expect(plan.keep == [leases[1]])
    }

    struct Blast: Sendable, CustomStringConvertible {
        let gone: Int, fraction: Double, count: Int?, refused: Bool
        var description: String { "\(gone) of 10 gone, fraction \(fraction), count \(count.map(String.init) ?? "-")" }
    }

    @Test(arguments: [
        Blast(gone: 5, fraction: 0.5, count: nil, refused: false),
        Blast(gone: 6, fraction: 0.5, count: nil, refused: true),
        Blast(gone: 1, fraction: 0.05, count: nil, refused: true),
        Blast(gone: 10, fraction: 1.0, count: nil, refused: false),
        Blast(gone: 3, fraction: 0.5, count: 2, refused: true),
        Blast(gone: 2, fraction: 0.5, count: 2, refused: false),
        Blast(gone: 0, fraction: 0.0, count: 0, refused: false),
    ])
    func blastRadius(_ c: Blast) {
        let leases = (0..<10).map { lease("10.0.0.\($0 + 2)", netns: "/run/netns/\($0)") }
        let live = (c.gone..<10).map { "/run/netns/\($0)" }
        // One unrelated live address keeps the inventory non-empty.
        let inv = Inventory(status: .complete, observed: [seen("10.0.0.200")], existingNetnsPaths: Set(live))
        let policy = ReconcilePolicy(maxReleaseFraction: c.fraction, maxReleaseCount: c.count, currentBootID: "boot-now")
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: policy)
        if c.refused {
            #expect(plan.release.isEmpty)
            #expect(plan.keep == leases)
            #expect(plan.refusal?.wouldRelease == Array(leases.prefix(c.gone)))
            #expect(plan.refusal?.message.contains("refusing to release \(c.gone) of 10 leases") == true)
            #expect(plan.refusal?.message.contains("--force") == true)
            var forced = policy
            forced.force = true
            #expect(ReconcilePlanner.plan(leases: leases, inventory: inv, policy: forced).release == Array(leases.prefix(c.gone)))
        } else {
            #expect(plan.refusal == nil)
            #expect(plan.release == Array(leases.prefix(c.gone)))
        }
    }

    @Test func addressOnTwoHoldersIsAConflictNotAPick() {
        let leases = [lease("10.0.0.2", netns: "/run/netns/a", veth: "veth-a")]
        let inv = Inventory(status: .complete,
                            observed: [seen("10.0.0.2", veth: "veth-a"), seen("10.0.0.2", veth: "veth-b"),
                                       seen("10.0.0.9", veth: "veth-c", mac: "02:00:00:00:00:01"),
                                       seen("10.0.0.9", veth: "veth-d", mac: "02:00:00:00:00:02")],
                            existingNetnsPaths: [])
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: now)
        #expect(plan.conflicts.map(\.kind) == [.multipleHolders, .multipleHolders])
        #expect(plan.conflicts.map(\.address) == [ip("10.0.0.2"), ip("10.0.0.9")])
        #expect(plan.conflicts[0].leases == leases)
        #expect(plan.conflicts[0].description.contains("veth-a") && plan.conflicts[0].description.contains("veth-b"))
        #expect(plan.adopt.isEmpty)        // neither holder of .9 is silently chosen
        #expect(plan.keep == leases)
        #expect(plan.release.isEmpty)
    }

    @Test func sameHolderSeenThroughTwoSourcesIsMerged() {
        let inv = Inventory(status: .complete,
                            observed: [seen("10.0.0.9", veth: "veth-c", ifindex: 12), seen("10.0.0.9", mac: "02:00:00:00:00:01"),
                                       seen("10.0.0.9", veth: "veth-c", mac: "02:00:00:00:00:01")],
                            existingNetnsPaths: [])
        let plan = ReconcilePlanner.plan(leases: [], inventory: inv, policy: now)
        #expect(plan.conflicts.isEmpty)
        #expect(plan.adopt == [seen("10.0.0.9", veth: "veth-c", ifindex: 12, mac: "02:00:00:00:00:01")])
    }

    @Test func holderMismatchIsReported() {
        let leases = [lease("10.0.0.2", netns: "/run/netns/a", veth: "veth-a", mac: "02:00:00:00:00:0A"),
                      lease("10.0.0.3", netns: "/run/netns/b", veth: "veth-b", mac: "02:00:00:00:00:0b"),
                      lease("10.0.0.4", netns: "/run/netns/c", veth: "veth-c", mac: "02:00:00:00:00:0c")]
        let inv = Inventory(status: .complete,
                            observed: [seen("10.0.0.2", veth: "veth-a", mac: "02:00:00:00:00:0a"),   // same MAC, other case
                                       seen("10.0.0.3", veth: "veth-z"),                              // other veth
                                       seen("10.0.0.4", mac: "02:00:00:00:00:ff")],                   // other MAC
                            existingNetnsPaths: ["/run/netns/a", "/run/netns/b", "/run/netns/c"])
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: now)
        #expect(plan.conflicts.map(\.kind) == [.holderMismatch, .holderMismatch])
        #expect(plan.conflicts.map(\.address) == [ip("10.0.0.3"), ip("10.0.0.4")])
        #expect(plan.conflicts[0].detail.contains("veth-z"))
        #expect(plan.keep == leases)
    }

    @Test func duplicateLeasesAreKeptAndReported() {
        let leases = [lease("10.0.0.2", netns: "/run/netns/gone", id: "x"), lease("10.0.0.2", netns: "/run/netns/gone2", id: "y"),
                      lease("10.0.0.3", netns: "/run/netns/c")]
        let inv = Inventory(status: .complete, observed: [seen("10.0.0.3")], existingNetnsPaths: ["/run/netns/c"])
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: now)
        #expect(plan.conflicts.map(\.kind) == [.duplicateLeases])
        #expect(plan.release.isEmpty)
        #expect(plan.keep == leases)
    }

    @Test func bootIDProvesStalenessAfterReboot() {
        // After a reboot: nothing is live, every lease is from the old boot.
        let leases = [lease("10.0.0.2", netns: "/run/netns/a", boot: "boot-old"),
                      lease("10.0.0.3", boot: "boot-old"),
                      lease("10.0.0.4", netns: "/run/netns/c", boot: "boot-old")]
        let inv = Inventory(status: .complete, observed: [], existingNetnsPaths: ["/run/netns/c"])
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: now)
        #expect(plan.refusal == nil)
        #expect(plan.release == [leases[0], leases[1]])
        // Its netns path exists again (reused name): not provably gone.
        #expect(plan.keep == [leases[2]])
    }

    @Test func bootIDEvidenceNeedsBothIDs() {
        let leases = [lease("10.0.0.2", boot: nil), lease("10.0.0.3", boot: "boot-old")]
        let inv = Inventory(status: .complete, observed: [seen("10.0.0.99")], existingNetnsPaths: [])
        // Unknown current boot id: no evidence at all for netns-less leases.
        let unknown = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: ReconcilePolicy())
        #expect(unknown.release.isEmpty && unknown.refusal == nil)
        // Lease without boot id: kept; old-boot lease released.
        let known = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: now)
        #expect(known.release == [leases[1]])
        #expect(known.keep == [leases[0]])
    }

    @Test func oldBootLeaseWhoseAddressIsLiveIsKept() {
        let leases = [lease("10.0.0.2", boot: "boot-old")]
        let inv = Inventory(status: .complete, observed: [seen("10.0.0.2")], existingNetnsPaths: [])
        var policy = now
        policy.force = true
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: policy)
        #expect(plan.release.isEmpty)
        #expect(plan.keep == leases)
    }

    @Test func emptyInventoryWithOnlyBootStaleAndCurrentBootLeases() {
        // One current-boot lease whose netns is gone: the empty inventory is thin
        // evidence for it, so the whole plan refuses.
        let leases = [lease("10.0.0.2", boot: "boot-old"), lease("10.0.0.3", netns: "/run/netns/b")]
        let inv = Inventory(status: .complete, observed: [], existingNetnsPaths: [])
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: now)
        #expect(plan.refusal?.reason == .inventoryEmpty)
        #expect(plan.release.isEmpty)
    }

    @Test func planRoundTripsThroughJSONForDryRuns() throws {
        let leases = [lease("10.0.0.2", netns: "/run/netns/gone"), lease("10.0.0.3", netns: "/run/netns/b", veth: "v1")]
        let inv = Inventory(status: .complete, observed: [seen("10.0.0.3", veth: "v2"), seen("10.0.0.9")], existingNetnsPaths: ["/run/netns/b"])
        let plan = ReconcilePlanner.plan(leases: leases, inventory: inv, policy: ReconcilePolicy(maxReleaseCount: 0))
        #expect(plan.refusal != nil && !plan.conflicts.isEmpty && !plan.adopt.isEmpty)
        let json = try JSONDecoderShim.encode(plan)
        #expect(try JSONDecoderShim.decode(ReconcilePlan.self, json) == plan)
        #expect(json.contains("rerun with --force after a dry run"))
    }
}
