import Foundation
import Synchronization
import Testing
import Addressing
import Etcd
@testable import Cluster

/// The claim protocol against a real etcd.
@Suite(.enabled(if: EtcdProcess.installed, "needs Debian's etcd-server"), .serialized)
struct BlockClaimerTests {
    static let pool = try! ClusterPool(cidr: IPNetwork("10.77.0.0/24")!, blockPrefix: 28)   // 16 blocks

    func claimer(_ etcd: EtcdProcess, node: String, boot: String = "boot-1") -> BlockClaimer {
        claimer(etcd.endpoint, node: node, boot: boot)
    }

    func claimer(_ endpoint: String, node: String, boot: String = "boot-1") -> BlockClaimer {
        BlockClaimer(client: EtcdClient(config: EtcdConfig(endpoints: [endpoint])),
                     keys: ClusterKeys(prefix: "/t", network: "net"), node: node, bootID: boot, address: nil)
    }

    @Test func concurrentNodesClaimDisjointBlocksUntilThePoolIsFull() throws {
        let etcd = try EtcdProcess()
        defer { etcd.stop() }
        let results = Mutex<[String: [ClaimedBlock]]>([:])
        let errors = Mutex<[String]>([])
        let endpoint = etcd.endpoint
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let node = "node-\(i)"
            let c = claimer(endpoint, node: node)
            do {
                let reg = try c.register()
                var mine: [ClaimedBlock] = []
                for _ in 0..<4 { mine.append(try c.claim(from: Self.pool, registration: reg, within: .seconds(10))) }
                results.withLock { $0[node] = mine }
            } catch {
                errors.withLock { $0.append("\(node): \(error)") }
            }
        }
        #expect(errors.withLock { $0 } == [])
        let all = results.withLock { $0 }.values.flatMap { $0 }
        #expect(all.count == 16)
        #expect(Set(all.map(\.cidr)).count == 16, "no block was claimed twice")
        #expect(Set(all.map(\.epoch)).count == 16)
        // etcd agrees with what each node was told.
        for (node, blocks) in results.withLock({ $0 }) {
            #expect(Set(try claimer(etcd, node: node).ownedBlocks()) == Set(blocks))
        }
        let late = claimer(etcd, node: "node-late")
        let reg = try late.register()
        #expect(throws: ClaimError.poolExhausted(Self.pool.cidr)) { try late.claim(from: Self.pool, registration: reg, within: .seconds(5)) }
    }

    @Test func aChangedRegistrationStopsClaims() throws {
        let etcd = try EtcdProcess()
        defer { etcd.stop() }
        let old = claimer(etcd, node: "n", boot: "boot-1")
        let reg = try old.register()
        _ = try old.claim(from: Self.pool, registration: reg, within: .seconds(5))
        // The same name registers again from another boot.
        let newer = claimer(etcd, node: "n", boot: "boot-2")
        #expect(try newer.register() > reg)
        #expect { try old.claim(from: Self.pool, registration: reg, within: .seconds(5)) } throws: { error in
            if case .registrationChanged = error as? ClaimError { true } else { false }
        }
        #expect(try old.ownedBlocks().count == 1, "the refused claim created nothing")
    }

    @Test func releaseNeedsTheSameEpochAndAReclaimGetsANewOne() throws {
        let etcd = try EtcdProcess()
        defer { etcd.stop() }
        let c = claimer(etcd, node: "n")
        let reg = try c.register()
        let first = try c.claim(from: Self.pool, registration: reg, within: .seconds(5))
        #expect(try c.release(ClaimedBlock(cidr: first.cidr, epoch: first.epoch + 1000)) == false)
        #expect(try c.ownedBlocks() == [first])
        #expect(try c.release(first))
        #expect(try c.ownedBlocks() == [])
        let again = try c.claim(from: Self.pool, registration: reg, within: .seconds(5))
        #expect(again.cidr == first.cidr)
        #expect(again.epoch > first.epoch)
    }

    @Test func fencedBlocksAreFreedOnlyAfterTheBoundAndOnlyIfTheOwnerWasNotSeenSince() throws {
        let etcd = try EtcdProcess()
        defer { etcd.stop() }
        let pool = try ClusterPool(cidr: IPNetwork("10.78.0.0/27")!, blockPrefix: 28)   // 2 blocks
        let a = claimer(etcd, node: "a", boot: "boot-1"), b = claimer(etcd, node: "b")
        _ = try a.claim(from: pool, registration: try a.register(), within: .seconds(5))
        _ = try b.claim(from: pool, registration: try b.register(), within: .seconds(5))
        try a.publishFence(actionTimeoutSeconds: 10, reason: "test")
        let now = Int64(Date().timeIntervalSince1970)
        #expect(try b.reclaimFenced(in: pool, now: now + 19) == [], "inside the bound (2 x 10 s)")
        // Came back on a new boot: its registration changed after the fence, so nothing is reclaimed.
        let back = claimer(etcd, node: "a", boot: "boot-2")
        _ = try back.register()
        #expect(try b.reclaimFenced(in: pool, now: now + 60) == [])
        // A fence of the current boot, past the bound: the block is freed, then claimable.
        try back.publishFence(actionTimeoutSeconds: 10, reason: "test")
        #expect(try b.reclaimFenced(in: pool, now: now + 60) == [], "the block's owner record names boot-1, not the fenced boot-2")
        let c = claimer(etcd, node: "c", boot: "boot-9")
        try c.publishFence(actionTimeoutSeconds: 1, reason: "test")   // fences of nodes without blocks change nothing
        #expect(try b.reclaimFenced(in: pool, now: now + 60) == [])
        #expect(try a.ownedBlocks().count == 1)
    }

    @Test func aFencedOwnerThatNeverCameBackLosesItsBlockAfterTheBound() throws {
        let etcd = try EtcdProcess()
        defer { etcd.stop() }
        let pool = try ClusterPool(cidr: IPNetwork("10.79.0.0/27")!, blockPrefix: 28)
        let a = claimer(etcd, node: "a"), b = claimer(etcd, node: "b")
        let block = try a.claim(from: pool, registration: try a.register(), within: .seconds(5))
        let regB = try b.register()
        _ = try b.claim(from: pool, registration: regB, within: .seconds(5))
        try a.publishFence(actionTimeoutSeconds: 1, reason: "test")
        #expect(throws: ClaimError.poolExhausted(pool.cidr)) { try b.claim(from: pool, registration: regB, within: .seconds(5)) }
        Thread.sleep(forTimeInterval: 2.2)
        let taken = try b.claim(from: pool, registration: regB, within: .seconds(5))
        #expect(taken.cidr == block.cidr && taken.epoch > block.epoch)
        #expect(try a.ownedBlocks() == [])
    }

    @Test func unreachableEtcdIsADefiniteFailureWithinTheDeadline() throws {
        // A port nothing listens on.
        let c = BlockClaimer(client: EtcdClient(config: EtcdConfig(endpoints: ["http://127.0.0.1:9"], timeout: .milliseconds(300))),
                             keys: ClusterKeys(prefix: "/t", network: "net"), node: "n", bootID: "b", address: nil)
        let start = ContinuousClock.now
        #expect { _ = try c.register() } throws: { error in
            if case .etcd(let e) = error as? ClaimError { e.isDefinite } else { false }
        }
        #expect(start.duration(to: .now) < .seconds(2))
    }
}
