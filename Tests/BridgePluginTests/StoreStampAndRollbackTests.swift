import Foundation
import Addressing
import CNI
import IPAM
import LeaseService
import LeaseStore
import Testing
@testable import BridgePlugin

/// StoreStamp's alias format and its one-bump contract with LeaseStore.write,
/// Rollback's order, DefaultRoutes and MACAddress.randomLocal: pure or on a
/// real store in a temporary directory, no root.
@Suite struct StoreStampAndRollbackTests {
    @Test func aliasRoundTrips() {
        let stamp = StoreStamp(storeID: "ab12cd", generation: 42, leaseEpoch: 9)
        #expect(stamp.alias == "holdfast-store ab12cd 42 9")
        #expect(StoreStamp(alias: stamp.alias) == stamp)
    }

    @Test(arguments: [nil, "", "holdfast c1 eth0", "holdfast-store ab 1", "holdfast-store ab x 3",
                      "holdfast-store ab 1 2 3", "other-prefix ab 1 2"])
    func malformedAliasIsNoStamp(alias: String?) {
        #expect(StoreStamp(alias: alias) == nil)
    }

    /// `pending` predicts the state its transaction commits; that holds only if
    /// LeaseStore.write bumps the generation exactly once per transaction.
    @Test func pendingIsWhatTheWriteCommits() throws {
        var template = Array("/tmp/holdfast-stamp-test-XXXXXX".utf8CString)
        let dir = String(cString: try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try LeaseStore.open(StoreLocation(dataDir: dir, network: "stamp"))
        #expect(try store.read { try StoreStamp.committed($0) } == nil, "no plugin has stamped a new store")
        for round in 0..<3 {
            let pending = try store.write(lockTimeout: .seconds(1)) { txn -> StoreStamp in
                if round == 1 {
                    try txn.insert(Lease(address: IPAddress("10.0.0.\(round + 2)")!, rangeSetIndex: 0, containerID: "c\(round)",
                                         ifname: "eth0", netns: nil, createdAt: Date()))
                }
                return try StoreStamp.pending(txn)
            }
            let committed = try #require(try store.read { try StoreStamp.committed($0) })
            #expect(committed == pending)
        }
    }

    @Test func rollbackRunsNewestFirstAndContinuesPastFailures() {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
        var order: [String] = []
        var rollback = Rollback()
        rollback.add("lease") { order.append("lease") }
        rollback.add("veth") { order.append("veth"); throw Boom() }
        rollback.add("rule") { order.append("rule") }
        let failures = rollback.run()
        #expect(order == ["rule", "veth", "lease"])
        #expect(failures == ["veth: boom"])
        #expect(Rollback().run().isEmpty)
    }

    @Test func defaultRoutesAreAddedPerFamilyOnlyWhenMissing() {
        let v4 = CNIResult.IPConfig(address: IPNetwork("10.1.0.5/24")!, gateway: IPAddress("10.1.0.1"))
        let v6 = CNIResult.IPConfig(address: IPNetwork("fd00::5/64")!, gateway: IPAddress("fd00::1"))
        let bare = CNIResult(ips: [v4, v6], routes: [], dns: CNIResult.DNS())
        #expect(DefaultRoutes.missing(in: bare).map(\.dst.description) == ["0.0.0.0/0", "::/0"])
        let routed = CNIResult(ips: [v4, v6], routes: [CNIResult.Route(dst: IPNetwork("0.0.0.0/0")!, gw: nil)],
                               dns: CNIResult.DNS())
        #expect(DefaultRoutes.missing(in: routed).map(\.dst.description) == ["::/0"])
        let noGateway = CNIResult(ips: [CNIResult.IPConfig(address: IPNetwork("10.1.0.5/24")!, gateway: nil)],
                                  routes: [], dns: CNIResult.DNS())
        #expect(DefaultRoutes.missing(in: noGateway).isEmpty)
    }

    @Test func randomLocalMACIsUnicastAndLocallyAdministered() {
        for _ in 0..<64 {
            let first = MACAddress.randomLocal().bytes[0]
            #expect(first & 0x01 == 0 && first & 0x02 == 0x02)
        }
    }
}
