import Foundation
import Addressing
import CNI
import Glibc
import IPAMPlugin
import KernelInventory
import LeaseService
import Netlink
import NetlinkTesting
import Testing
@testable import BridgePlugin

/// `KernelGuard` over a real store and a recording netlink transport: what is
/// live on the bridge's ports is adopted by `PlanApplier`'s rule, and the proof
/// written by `stamp` makes the next ADD skip the kernel.
@Suite struct KernelGuardStampTests {
    struct Fixture {
        let dir: String
        let service: IPAMService
        init() throws {
            var template = Array("/tmp/holdfast-kg-test-XXXXXX".utf8CString)
            dir = String(cString: try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }))
            let json = #"{"cniVersion":"1.0.0","name":"kgtest","type":"holdfast","bridge":"hfkg0","ipam":{"type":"holdfast-ipam","#
                + #""dataDir":"\#(dir)","kernelEvidence":{"proofDir":"\#(dir)/proof"},"ranges":[[{"subnet":"10.78.0.0/28"}]]}}"#
            service = try HoldfastIPAMPlugin.service(for: try NetworkConfig(decoding: Data(json.utf8)))
        }
        func cleanup() { try? FileManager.default.removeItem(atPath: dir) }

        func guardOver(_ mock: MockNetlinkTransport) -> KernelGuard {
            KernelGuard(bridge: Link(index: 7, name: "hfkg0", kind: "bridge", mtu: 1500),
                        inventory: KernelInventory(netlink: NetlinkSocket(transport: mock, firstSequence: 0),
                                                   netnsDirectory: "\(dir)/netns"),
                        config: service.config, location: service.store.location, now: Date(), ownPort: nil)
        }
    }

    static func ip(_ text: String) throws -> IPAddress { try #require(IPAddress(text)) }

    @Test func liveAddressesAreAdoptedByTheRangeRuleAndTheStampSkipsTheNextScan() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        let mock = MockNetlinkTransport()
        mock.reply(Reply.link(index: 20, name: "vethA", master: 7, alias: "holdfast c9 eth0", peerIndex: 2, linkNetnsID: 5)
                   + Reply.link(index: 21, name: "vethB", master: 7, peerIndex: 3, linkNetnsID: 5)
                   + Reply.done())
        mock.reply(Reply.address(index: 2, [10, 78, 0, 5], prefix: 28, netnsID: 5)
                   + Reply.address(index: 2, [192, 168, 9, 9], prefix: 24, netnsID: 5)
                   + Reply.address(index: 3, [10, 78, 0, 6], prefix: 28, netnsID: 5)
                   + Reply.done())
        let first = f.guardOver(mock)
        let live = try f.service.store.write(lockTimeout: .seconds(5)) { txn in
            let live = try first.liveAddresses(txn)
            try first.stamp(txn)
            return live
        }
        #expect(live == [try Self.ip("10.78.0.5"), try Self.ip("192.168.9.9"), try Self.ip("10.78.0.6")],
                "everything live is kept from the allocator, in range or not")
        let leases = try f.service.store.read { try $0.leases() }
        #expect(leases.map(\.address) == [try Self.ip("10.78.0.5"), try Self.ip("10.78.0.6")],
                "the address outside every range set is not adopted")
        #expect(leases.first?.containerID == "c9" && leases.first?.ifname == "eth0", "attributed through the port's alias")
        #expect(leases.last?.containerID.hasPrefix("adopted-") == true, "a port without our alias is still adopted")

        // The proof now matches: the next guard answers without a single request.
        let idle = MockNetlinkTransport()
        let second = f.guardOver(idle)
        let again = try f.service.store.write(lockTimeout: .seconds(5)) { txn in try second.liveAddresses(txn) }
        #expect(again.isEmpty)
        #expect(idle.requests.isEmpty)
    }

    @Test func stampBeforeAnyCheckIsRefused() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        let kg = f.guardOver(MockNetlinkTransport())
        #expect(throws: CurrencyGuardError.self) {
            try f.service.store.write(lockTimeout: .seconds(5)) { txn in try kg.stamp(txn) }
        }
    }

    @Test func aFailedScanAllocatesNothingAndStampsNothing() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        let mock = MockNetlinkTransport()
        mock.reply(Reply.error(EPERM))
        let kg = f.guardOver(mock)
        #expect(throws: NetlinkError.self) {
            try f.service.store.write(lockTimeout: .seconds(5)) { txn in _ = try kg.liveAddresses(txn) }
        }
        #expect(try f.service.store.read { try $0.leases() }.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(f.dir)/proof"), "no proof written for an unproven store")
    }
}
