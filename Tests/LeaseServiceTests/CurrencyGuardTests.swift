import Addressing
import Foundation
import IPAM
@testable import LeaseService
import LeaseStore
import Testing

/// A fresh directory under /tmp for one test, removed afterwards.
private func withScratch<T>(_ body: (String) throws -> T) throws -> T {
    let path = "/tmp/holdfast-guard-test-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

private func ip(_ text: String) -> IPAddress { IPAddress(text)! }

private let rangeSets = [try! RangeSet([try! IPRange(subnet: IPNetwork("10.77.0.0/24")!)])]

/// Counts how often the guard asked the kernel, and what it answered.
private final class FakeKernel {
    var reads = 0
    var live: [ObservedAddress] = []
    var holder = LiveHolder()
    var failure: (any Error)?

    func evidence() throws -> KernelEvidence {
        reads += 1
        if let failure { throw failure }
        let holder = self.holder
        return KernelEvidence(observed: live, holder: { _ in holder })
    }
}

private struct Fixture {
    let store: LeaseStore
    let proof: ProofFile
    let kernel = FakeKernel()

    init(_ dir: String) throws {
        let location = try StoreLocation(dataDir: dir, network: "net1")
        store = try LeaseStore.open(location)
        proof = ProofFile(directory: dir + "/proof", location: location)
    }

    func guardValue() -> CurrencyGuard {
        CurrencyGuard(proof: proof, rangeSets: rangeSets, now: Date(timeIntervalSince1970: 1_700_000_000),
                      evidence: kernel.evidence)
    }

    /// One ADD-like transaction: check, then stamp; returns what was live.
    @discardableResult
    func add(_ lease: String? = nil) throws -> Set<IPAddress> {
        let g = guardValue()
        return try store.write(lockTimeout: .seconds(5)) { txn in
            let live = try g.liveAddresses(txn)
            if let lease {
                try txn.insert(Lease(address: ip(lease), rangeSetIndex: 0, containerID: "c-\(lease)", ifname: "eth0",
                                     netns: nil, createdAt: Date()))
            }
            try g.stamp(txn)
            return live
        }
    }
}

@Suite struct CurrencyGuardTests {
    @Test func aMatchingProofNeverReadsTheKernel() throws {
        try withScratch { dir in
            let f = try Fixture(dir)
            try f.add("10.77.0.2")  // no proof yet: one scan, then stamped
            #expect(f.kernel.reads == 1)
            try f.add("10.77.0.3")
            try f.add("10.77.0.4")
            #expect(f.kernel.reads == 1)
            #expect(f.proof.read() == (try f.store.read { try StoreStamp.committed($0) }))
        }
    }

    @Test func aDeletedStoreScansAndAdoptsWhatIsLive() throws {
        try withScratch { dir in
            var f = try Fixture(dir)
            try f.add("10.77.0.2")
            // The store is lost; the proof (under /run in production) is not.
            try FileManager.default.removeItem(atPath: dir + "/net1")
            f = try Fixture(dir)
            f.kernel.live = [ObservedAddress(address: ip("10.77.0.2"), netnsPath: "/run/netns/a"),
                             ObservedAddress(address: ip("10.99.0.9"), netnsPath: "/run/netns/b")]
            f.kernel.holder = LiveHolder(ifname: "eth1", netns: "/run/netns/a")
            let live = try f.add()
            #expect(f.kernel.reads == 1)
            #expect(live.contains(ip("10.77.0.2")))
            let leases = try f.store.read { try $0.leases() }
            // Adopted with attribution; the address outside every range set is not.
            #expect(leases.map(\.address) == [ip("10.77.0.2")])
            #expect(leases.first?.containerID == "\(IPAMService.adoptedPrefix)a")
            #expect(leases.first?.ifname == "eth1")
            #expect(leases.first?.netns == "/run/netns/a")
        }
    }

    @Test func anEditedStoreOrARestoreMarkerIsNotProven() throws {
        try withScratch { dir in
            let f = try Fixture(dir)
            try f.add("10.77.0.2")
            // Someone deletes a lease behind the plugin's back (the epoch moves).
            try f.store.write(lockTimeout: .seconds(5)) { txn in
                for lease in try txn.leases() { try txn.release(lease, reason: "manual", at: Date()) }
            }
            try f.add()
            #expect(f.kernel.reads == 2)
            // A restore marker forces a scan even with a matching proof, and the scan clears it.
            try f.store.write(lockTimeout: .seconds(5)) { try $0.setMeta(.restoredAt, "1") }
            try f.add()
            #expect(f.kernel.reads == 3)
            #expect(try f.store.read { try $0.meta(.restoredAt) } == nil)
            try f.add()
            #expect(f.kernel.reads == 3)
        }
    }

    @Test func partialEvidenceAllocatesNothing() throws {
        try withScratch { dir in
            let f = try Fixture(dir)
            f.kernel.failure = CurrencyGuardError(description: "namespace unreadable")
            #expect(throws: CurrencyGuardError.self) { try f.add("10.77.0.2") }
            #expect(try f.store.read { try $0.leases() }.isEmpty)
            #expect(f.proof.read() == nil)
        }
    }

    @Test func stampWithoutACheckIsAnError() throws {
        try withScratch { dir in
            let f = try Fixture(dir)
            let g = f.guardValue()
            #expect(throws: CurrencyGuardError.self) { try f.store.write(lockTimeout: .seconds(5)) { try g.stamp($0) } }
            #expect(f.proof.read() == nil)
        }
    }

    @Test func aDelOnAnUnprovenStoreDoesNotStamp() throws {
        try withScratch { dir in
            let f = try Fixture(dir)
            let g = f.guardValue()
            try f.store.write(lockTimeout: .seconds(5)) { txn in
                try g.checkCurrent(txn)
                try txn.insert(Lease(address: ip("10.77.0.5"), rangeSetIndex: 0, containerID: "x", ifname: "eth0",
                                     netns: nil, createdAt: Date()))
                try g.stamp(txn)
            }
            #expect(g.verdict.state == .unproven)
            #expect(f.proof.read() == nil)
            #expect(f.kernel.reads == 0)
        }
    }

    @Test func twoNetworksKeepTheirOwnProof() throws {
        try withScratch { dir in
            let a = ProofFile(directory: dir, location: try StoreLocation(dataDir: dir, network: "a"))
            let b = ProofFile(directory: dir, location: try StoreLocation(dataDir: dir, network: "b"))
            let elsewhere = ProofFile(directory: dir, location: try StoreLocation(dataDir: dir + "/other", network: "a"))
            #expect(Set([a.path, b.path, elsewhere.path]).count == 3)
            a.write(StoreStamp(storeID: "x", generation: 1, leaseEpoch: 0))
            b.write(StoreStamp(storeID: "y", generation: 2, leaseEpoch: 1))
            #expect(a.read()?.storeID == "x")
            #expect(b.read()?.storeID == "y")
            #expect(elsewhere.read() == nil)
        }
    }

    @Test func writeMakesAMissingDirectoryPrivateAndOverwritesInPlace() throws {
        try withScratch { dir in
            let proofDir = dir + "/run/holdfast/proof"
            let proof = ProofFile(directory: proofDir, location: try StoreLocation(dataDir: dir, network: "n"))
            #expect(proof.read() == nil)
            proof.write(StoreStamp(storeID: "first", generation: 1, leaseEpoch: 0))
            var st = stat()
            #expect(stat(proofDir, &st) == 0)
            #expect(st.st_mode & 0o777 == 0o700)
            #expect(stat(proof.path, &st) == 0)
            let inode = st.st_ino
            proof.write(StoreStamp(storeID: "second", generation: 2, leaseEpoch: 1))
            #expect(proof.read()?.storeID == "second")
            #expect(stat(proof.path, &st) == 0)
            #expect(st.st_ino == inode)
        }
    }
}

@Suite struct PlanApplierTests {
    @Test func adoptsInRangeWithoutAPortAndSkipsTheRest() throws {
        try withScratch { dir in
            let store = try LeaseStore.open(try StoreLocation(dataDir: dir, network: "n"))
            let applier = PlanApplier(rangeSets: rangeSets, now: Date(), holder: { seen in
                seen.hostInterface == "vethA" ? LiveHolder(containerID: "ctr-a", ifname: "eth0") : LiveHolder()
            })
            let adopted = try store.write(lockTimeout: .seconds(5)) { txn in
                try txn.insert(Lease(address: ip("10.77.0.3"), rangeSetIndex: 0, containerID: "known", ifname: "eth0",
                                     netns: nil, createdAt: Date()))
                return try applier.adoptLive([
                    ObservedAddress(address: ip("10.77.0.2"), hostInterface: "vethA"),
                    ObservedAddress(address: ip("10.77.0.3"), hostInterface: "vethB"),   // already leased
                    ObservedAddress(address: ip("10.77.0.4")),                           // no port: still adopted
                    ObservedAddress(address: ip("192.0.2.1"), hostInterface: "vethC"),   // outside every range set
                ], in: txn)
            }
            #expect(adopted.map(\.address) == [ip("10.77.0.2"), ip("10.77.0.4")])
            #expect(adopted[0].containerID == "ctr-a" && adopted[0].hostInterface == "vethA")
            #expect(adopted[1].containerID == "\(IPAMService.adoptedPrefix)unknown")
            #expect(adopted.allSatisfy { $0.rangeSetIndex == 0 })
        }
    }
}

@Suite struct StoreStampTests {
    @Test func aliasRoundTrips() {
        let s = StoreStamp(storeID: "ab12", generation: 42, leaseEpoch: 19)
        #expect(s.alias == "holdfast-store ab12 42 19")
        #expect(StoreStamp(alias: s.alias) == s)
    }

    // The five-word stamp of earlier builds (with a lease count) is no stamp: the next ADD scans.
    @Test(arguments: [nil, "", "holdfast ctr eth0", "holdfast-store ab12 x 1", "holdfast-store ab12 42",
                      "holdfast-store ab12 42 7 19", "other ab 1 2"])
    func foreignAliasesAreNoStamp(_ alias: String?) {
        #expect(StoreStamp(alias: alias) == nil)
    }

    @Test func pendingNamesTheGenerationTheStoreCommits() throws {
        try withScratch { dir in
            let store = try LeaseStore.open(try StoreLocation(dataDir: dir, network: "n"))
            let pending = try store.write(lockTimeout: .seconds(5)) { try StoreStamp.pending($0) }
            #expect(try store.read { try StoreStamp.committed($0) } == pending)
        }
    }
}
