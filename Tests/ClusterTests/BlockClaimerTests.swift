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
