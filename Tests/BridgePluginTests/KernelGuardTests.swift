import Foundation
import Addressing
import Glibc
import IPAM
import KernelInventory
import LeaseService
import Netlink
import NetlinkTesting
import Testing
@testable import BridgePlugin

/// `KernelGuard.evidence` against a recording netlink transport: which live
/// addresses it reports for the bridge's ports and whom it names as holder.
@Suite struct KernelGuardEvidenceTests {
    static let bridge = Link(index: 7, name: "hfop0", kind: "bridge", mtu: 1500)

    /// A socket over `mock` and an inventory whose named-netns directory is an
    /// empty one of the test's (so no real `/run/netns` entry is asked about).
    static func inventory(_ mock: MockNetlinkTransport) -> KernelInventory {
        KernelInventory(netlink: NetlinkSocket(transport: mock, firstSequence: 0), netnsDirectory: "/nonexistent-holdfast-test")
    }

    @Test func aPeerAddressIsReportedWithThePortsAttachment() throws {
        let mock = MockNetlinkTransport()
        mock.reply(Reply.link(index: 20, name: "vethA", master: 7, alias: "holdfast c1 eth0", peerIndex: 2, linkNetnsID: 5)
                   + Reply.done())
        mock.reply(Reply.address(index: 2, [10, 78, 0, 2], prefix: 28, netnsID: 5)
                   + Reply.address(index: 3, [10, 78, 0, 9], prefix: 28, netnsID: 5)  // not the peer's ifindex
                   + Reply.done())
        let evidence = try KernelGuard.evidence(bridge: Self.bridge, inventory: Self.inventory(mock), ownPort: nil)
        #expect(evidence.observed.map(\.address) == [try #require(IPAddress("10.78.0.2"))])
        let seen = try #require(evidence.observed.first)
        #expect(seen.hostInterface == "vethA")
        #expect(seen.netnsID == "5")
        #expect(evidence.holder(seen) == LiveHolder(containerID: "c1", ifname: "eth0", netns: nil))
        #expect(mock.requests.count == 2, "one port dump, one address dump for the one peer namespace")
    }

    @Test func theOwnPortAndPortsWithoutAPeerAreNotRead() throws {
        let mock = MockNetlinkTransport()
        mock.reply(Reply.link(index: 20, name: "vethOwn", master: 7, peerIndex: 2, linkNetnsID: 5)
                   + Reply.link(index: 21, name: "dummy0", master: 7)
                   + Reply.done())
        let evidence = try KernelGuard.evidence(bridge: Self.bridge, inventory: Self.inventory(mock), ownPort: "vethOwn")
        #expect(evidence.observed.isEmpty)
        #expect(mock.requests.count == 1, "no address dump: no port left with a peer")
    }

    @Test func namespacesAreDumpedInIdOrder() throws {
        let mock = MockNetlinkTransport()
        mock.reply(Reply.link(index: 20, name: "vethB", master: 7, peerIndex: 2, linkNetnsID: 9)
                   + Reply.link(index: 21, name: "vethA", master: 7, peerIndex: 2, linkNetnsID: 3)
                   + Reply.done())
        mock.reply(Reply.address(index: 2, [10, 78, 0, 3], prefix: 28, netnsID: 3) + Reply.done())
        mock.reply(Reply.address(index: 2, [10, 78, 0, 9], prefix: 28, netnsID: 9) + Reply.done())
        let evidence = try KernelGuard.evidence(bridge: Self.bridge, inventory: Self.inventory(mock), ownPort: nil)
        #expect(evidence.observed.map(\.hostInterface) == ["vethA", "vethB"])
        #expect(evidence.observed.map(\.address) == [try #require(IPAddress("10.78.0.3")), try #require(IPAddress("10.78.0.9"))])
    }

    @Test func aShortReplyIsATypedErrorNotACrash() throws {
        let mock = MockNetlinkTransport()
        let link = Reply.link(index: 20, name: "vethA", master: 7, peerIndex: 2, linkNetnsID: 5)
        mock.reply(Array(link.prefix(20)))
        #expect(throws: NetlinkError.self) {
            _ = try KernelGuard.evidence(bridge: Self.bridge, inventory: Self.inventory(mock), ownPort: nil)
        }
    }

    @Test func aKernelErrorOnTheAddressDumpIsReported() throws {
        let mock = MockNetlinkTransport()
        mock.reply(Reply.link(index: 20, name: "vethA", master: 7, peerIndex: 2, linkNetnsID: 5) + Reply.done())
        mock.reply(Reply.error(EPERM))
        let error = try #require(throws: NetlinkError.self) {
            _ = try KernelGuard.evidence(bridge: Self.bridge, inventory: Self.inventory(mock), ownPort: nil)
        }
        #expect(error.errno == EPERM)
    }
}
