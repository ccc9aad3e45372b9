#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import IPAM
import LeaseStore

/// Proves, inside the allocation transaction, that the store knows every live
/// address of its network, and makes it so when it does not. Shared by the
/// bridge plugin (evidence: the bridge's ports) and `holdfast-ipam` (evidence:
/// every network namespace on the host).
///
/// The proof is the network's `ProofFile` compared with the store's committed
/// `StoreStamp`: one small file read and three indexed reads. When it does not
/// match (store deleted, emptied, edited, restored, a writer died mid-way, or
/// no proof since boot) or the restore marker is set, `evidence` is read in
/// full, every live address the store lacks is adopted through `PlanApplier`,
/// and everything live is returned, so the allocator can never pick it. `stamp`
/// writes the new proof as the transaction's last step.
public struct CurrencyGuard {
    public let proof: ProofFile
    public let rangeSets: [RangeSet]
    public let now: Date
    /// Reads the kernel in full: what is live, and who holds each address.
    public let evidence: () throws -> KernelEvidence
    public let verdict = CurrencyVerdict()

    public init(proof: ProofFile, rangeSets: [RangeSet], now: Date, evidence: @escaping () throws -> KernelEvidence) {
        self.proof = proof
        self.rangeSets = rangeSets
        self.now = now
        self.evidence = evidence
    }

    /// Whether the proof vouches for the store as committed; false while a restore marker is set.
    public func isProven(_ txn: LeaseTransaction) throws -> Bool {
        guard let written = proof.read() else { return false }
        let state = try txn.currencyState()
        return !state.restored && StoreStamp.committed(state) == written
    }

    /// For ADD: proves the store current (O(1)) or scans, adopts and proves it;
    /// returns the addresses seen live (empty when the proof matched).
    /// Throws what `evidence` throws: nothing is allocated on partial evidence.
    public func liveAddresses(_ txn: LeaseTransaction) throws -> Set<IPAddress> {
        if try isProven(txn) {
            verdict.state = .proven
            return []
        }
        let seen = try evidence()
        let adopted = try PlanApplier(rangeSets: rangeSets, now: now, holder: seen.holder).adoptLive(seen.observed, in: txn)
        if !adopted.isEmpty {
            let list = adopted.map { "\($0.address) (\($0.containerID)/\($0.ifname))" }.joined(separator: ", ")
            try txn.appendAudit(actor: "holdfast", action: "adopt", detail: "store did not know live addresses: \(list)", at: now)
            StderrLog.line("adopted \(adopted.count) live address(es) the lease store did not know: \(list)")
        }
        if try txn.meta(.restoredAt) != nil { try txn.setMeta(.restoredAt, nil) }
        verdict.state = .proven
        return Set(seen.observed.map(\.address))
    }

    /// For writers that do not allocate (DEL): notes, before the transaction
    /// changes anything, whether the proof vouches for the store.
    public func checkCurrent(_ txn: LeaseTransaction) throws {
        verdict.state = try isProven(txn) ? .proven : .unproven
    }

    /// Writes the proof of the state this transaction commits. A crash after
    /// this and before COMMIT leaves a proof newer than the store: the next ADD
    /// then scans, which is the safe direction.
    ///
    /// Only a store proven current at the start of this transaction is stamped:
    /// stamping an unproven store would hide a lost lease from the next ADD.
    public func stamp(_ txn: LeaseTransaction) throws {
        switch verdict.state {
        case .unchecked:
            throw CurrencyGuardError(description: "stamp() before liveAddresses() or checkCurrent() in this transaction")
        case .unproven:
            return
        case .proven:
            proof.write(try StoreStamp.pending(txn))
        }
    }
}

/// The kernel's full answer to "what is live on this network".
public struct KernelEvidence {
    public var observed: [ObservedAddress]
    public var holder: (ObservedAddress) -> LiveHolder

    public init(observed: [ObservedAddress], holder: @escaping (ObservedAddress) -> LiveHolder = { _ in LiveHolder() }) {
        self.observed = observed
        self.holder = holder
    }
}
