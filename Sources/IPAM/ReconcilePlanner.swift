import Addressing

/// Decides, from the store's leases and the kernel's truth, what reconcile should
/// adopt, keep and release. Pure and total: no I/O, never throws, so the most
/// dangerous logic in the product is unit- and property-tested.
///
/// Rules, in order of precedence:
/// 1. An address observed live is never released, whatever the policy (the
///    product's first invariant). Its lease is kept.
/// 2. Contradictions are reported as `Conflict`s and their leases kept: an address
///    on two holders, on a holder whose host interface or MAC differs from its
///    lease, or leased twice in the store.
/// 3. A live address without a lease is adopted (the store lost it; adopting stops
///    it from being handed out again).
/// 4. A lease whose address is not live is released only when its holder is
///    provably gone:
///    - its netns path no longer exists (`netns` evidence), or
///    - it was written under another boot id than the current one and its netns
///      is gone or unrecorded (`boot` evidence: no netns survives a reboot).
///    Otherwise it is kept (absence from the inventory alone proves nothing).
/// 5. Unless `policy.force`, the plan refuses to release anything (release empty,
///    `refusal` set, candidates listed in it) when
///    - the inventory failed and leases exist,
///    - the inventory observed nothing and a lease would be released on netns
///      evidence alone,
///    - the netns-evidence releases exceed `maxReleaseFraction` of all leases or
///      `maxReleaseCount`.
///    Boot-evidence releases are exempt from the last two checks: after a reboot
///    an empty inventory and "every lease is stale" are the expected truth, and
///    the boot id proves it independently of the inventory, so reconcile at start
///    needs no operator. They still wait when the inventory failed.
///
/// `Lease.state` is not consulted: a `.pendingRelease` lease is judged on the same
/// evidence. Callers must not reconcile a frozen network (freeze exists to keep
/// the store exactly as it was during an incident).
///
/// Output order is deterministic: `keep` and `release` follow the input order,
/// `adopt` and `conflicts` are sorted by address.
public enum ReconcilePlanner {
    public static func plan(leases: [Lease], inventory: Inventory, policy: ReconcilePolicy) -> ReconcilePlan {
        let holders = Self.holders(inventory.observed)
        let live = Set(inventory.observed.map(\.address))
        let leasesByAddress = Dictionary(grouping: leases, by: \.address)

        var conflicts: [Conflict] = []
        var adopt: [ObservedAddress] = []
        // Walk addresses in order so conflicts and adoptions come out sorted and
        // deterministic (dictionary order is not).
        for address in Set(leasesByAddress.keys).union(holders.keys).sorted() {
            let group = leasesByAddress[address] ?? []
            let seen = holders[address] ?? []
            if group.isEmpty {
                // Live without a lease: adopt, unless two holders claim it.
                if seen.count == 1 {
                    adopt.append(seen[0])
                } else {
                    conflicts.append(Conflict(address: address, kind: .multipleHolders, leases: [], observed: seen,
                                              detail: "not leased and live on \(seen.count) holders: " + seen.map(Self.describe).joined(separator: "; ")))
                }
                continue
            }
            if group.count > 1 {
                conflicts.append(Conflict(address: address, kind: .duplicateLeases, leases: group, observed: seen,
                                          detail: "the store holds \(group.count) leases: " + group.map(Self.describe).joined(separator: "; ")))
            }
            if seen.count > 1 {
                conflicts.append(Conflict(address: address, kind: .multipleHolders, leases: group, observed: seen,
                                          detail: "live on \(seen.count) holders: " + seen.map(Self.describe).joined(separator: "; ")))
            } else if let h = seen.first {
                for lease in group where Self.mismatch(lease, h) {
                    conflicts.append(Conflict(address: address, kind: .holderMismatch, leases: [lease], observed: [h],
                                              detail: "leased to \(Self.describe(lease)) but live on \(Self.describe(h))"))
                }
            }
        }

        // Leases in input order: release only on proof, keep everything else.
        var candidates: [(lease: Lease, bootEvidence: Bool)] = []
        var keep: [Lease] = []
        for lease in leases {
            let unique = leasesByAddress[lease.address]?.count == 1
            guard unique, !live.contains(lease.address), let evidence = Self.goneEvidence(lease, inventory, policy) else {
                keep.append(lease)
                continue
            }
            candidates.append((lease, evidence == .boot))
        }

        let release = candidates.map(\.lease)
        let refusal = policy.force ? nil : Self.refusal(candidates: candidates, leaseCount: leases.count,
                                                        inventory: inventory, policy: policy)
        if refusal != nil {
            // Keep input order so `keep` reads like the store listing.
            return ReconcilePlan(adopt: adopt, keep: leases, release: [], conflicts: conflicts, refusal: refusal)
        }
        return ReconcilePlan(adopt: adopt, keep: keep, release: release, conflicts: conflicts, refusal: nil)
    }

    private enum Evidence { case netns, boot }

    /// Why `lease`'s holder is provably gone, or nil when it is not.
    private static func goneEvidence(_ lease: Lease, _ inventory: Inventory, _ policy: ReconcilePolicy) -> Evidence? {
        let netnsGone = lease.netns.map { !inventory.existingNetnsPaths.contains($0) }
        if let now = policy.currentBootID, let then = lease.bootID, now != then, netnsGone ?? true {
            return .boot
        }
        return netnsGone == true ? .netns : nil
    }

    private static func refusal(candidates: [(lease: Lease, bootEvidence: Bool)], leaseCount: Int,
                                inventory: Inventory, policy: ReconcilePolicy) -> Refusal? {
        let all = candidates.map(\.lease)
        if case .failed(let why) = inventory.status, leaseCount > 0 {
            return Refusal(reason: .inventoryFailed(why), wouldRelease: all, leaseCount: leaseCount)
        }
        let guarded = candidates.filter { !$0.bootEvidence }.count
        guard guarded > 0 else { return nil }
        if inventory.observed.isEmpty {
            return Refusal(reason: .inventoryEmpty, wouldRelease: all, leaseCount: leaseCount)
        }
        if Double(guarded) > policy.maxReleaseFraction * Double(leaseCount) {
            return Refusal(reason: .exceedsFraction(limit: policy.maxReleaseFraction), wouldRelease: all, leaseCount: leaseCount)
        }
        if let limit = policy.maxReleaseCount, guarded > limit {
            return Refusal(reason: .exceedsCount(limit: limit), wouldRelease: all, leaseCount: leaseCount)
        }
        return nil
    }

    /// Distinct holders per address; observations that agree on every field they
    /// both know are merged (the same container seen through two kernel sources).
    static func holders(_ observed: [ObservedAddress]) -> [IPAddress: [ObservedAddress]] {
        var out: [IPAddress: [ObservedAddress]] = [:]
        for o in observed {
            var list = out[o.address] ?? []
            if let i = list.firstIndex(where: { !$0.isDifferentHolder(from: o) }) {
                list[i] = merge(list[i], o)
            } else {
                list.append(o)
            }
            out[o.address] = list
        }
        return out
    }

    private static func merge(_ a: ObservedAddress, _ b: ObservedAddress) -> ObservedAddress {
        ObservedAddress(address: a.address, hostInterface: a.hostInterface ?? b.hostInterface,
                        hostIfindex: a.hostIfindex ?? b.hostIfindex, netnsID: a.netnsID ?? b.netnsID,
                        netnsPath: a.netnsPath ?? b.netnsPath, mac: a.mac ?? b.mac)
    }

    /// The lease names a host interface or MAC and the live holder has another.
    /// Netns paths are not compared: one namespace has many valid paths.
    private static func mismatch(_ lease: Lease, _ h: ObservedAddress) -> Bool {
        if let a = lease.hostInterface, let b = h.hostInterface, a != b { return true }
        if let a = normalizedMAC(lease.containerMAC), let b = normalizedMAC(h.mac), a != b { return true }
        return false
    }

    private static func describe(_ l: Lease) -> String {
        var s = "container \(l.containerID) \(l.ifname)"
        if let h = l.hostInterface { s += " via \(h)" }
        if let m = l.containerMAC { s += " mac \(m)" }
        return s
    }

    private static func describe(_ o: ObservedAddress) -> String {
        var parts: [String] = []
        if let h = o.hostInterface { parts.append("host interface \(h)") }
        if let i = o.hostIfindex { parts.append("ifindex \(i)") }
        if let n = o.netnsID { parts.append("netns id \(n)") }
        if let p = o.netnsPath { parts.append("netns \(p)") }
        if let m = o.mac { parts.append("mac \(m)") }
        return parts.isEmpty ? "an unidentified holder" : parts.joined(separator: " ")
    }
}
