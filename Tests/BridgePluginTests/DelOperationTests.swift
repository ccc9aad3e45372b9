import Foundation
import Addressing
import CNI
import Glibc
import IPAMPlugin
import LeaseService
import Netlink
import NetlinkTesting
import Testing
@testable import BridgePlugin

/// DEL against a recording netlink transport and a real store in a temporary
/// directory: which requests it sends, and that the lease goes whatever the
/// kernel says, without root.
@Suite struct DelOperationTests {
    struct Fixture {
        let dir: String
        let request: CNIRequest
        let service: IPAMService

        init() throws {
            var template = Array("/tmp/holdfast-del-test-XXXXXX".utf8CString)
            dir = String(cString: try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }))
            let json = #"{"cniVersion":"1.0.0","name":"deltest","type":"holdfast","bridge":"hfdel0","#
                + #""ipam":{"type":"holdfast-ipam","dataDir":"\#(dir)","ranges":[[{"subnet":"10.77.0.0/29"}]]}}"#
            let config = try NetworkConfig(decoding: Data(json.utf8))
            request = CNIRequest(environment: CNIEnvironment(command: .del, containerID: "c1", ifname: "eth0"),
                                 config: config)
            service = try HoldfastIPAMPlugin.service(for: config)
            _ = try service.allocate(Addressing.Attachment(containerID: "c1", ifname: "eth0"),
                                     details: AttachmentDetails(netns: nil))
        }

        func cleanup() { try? FileManager.default.removeItem(atPath: dir) }

        var leases: Int { (try? service.store.read { try $0.leases() }.count) ?? -1 }
    }

    static let hostVeth = InterfaceName.hostVeth(containerID: "c1", ifname: "eth0")

    @Test func goneVethIsSuccessAndTheLeaseIsReleased() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        let mock = MockNetlinkTransport()
        mock.reply(Reply.error(ENODEV))  // ip link show: already gone, nothing to retire or delete
        mock.reply(Reply.error(ENODEV))  // the bridge lookup for the re-stamp: no bridge
        var del = DelOperation(request: f.request)
        del.openNetlink = { NetlinkSocket(transport: mock, firstSequence: 0) }
        del.startReaper = { _ in Issue.record("no reaper for a veth that is not there") }
        try del.run()
        #expect(f.leases == 0)
        let expected = numbered([try RequestBuilder.getLink(named: Self.hostVeth), try RequestBuilder.getLink(named: "hfdel0")])
        #expect(mock.requests == expected)
    }

    @Test func failedVethLookupFallsBackToTheDeleteAndReportsWithoutRestamping() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        let mock = MockNetlinkTransport()
        mock.reply(Reply.error(EPERM, message: "Operation not permitted"))  // ip link show
        mock.reply(Reply.error(EPERM, message: "Operation not permitted"))  // ip link del
        var del = DelOperation(request: f.request)
        del.openNetlink = { NetlinkSocket(transport: mock, firstSequence: 0) }
        #expect(throws: NetlinkError.self) { try del.run() }
        #expect(f.leases == 0, "the lease is released even when the kernel step failed")
        // No bridge lookup: with the veth perhaps still live, the store must not be re-stamped.
        #expect(mock.requests == numbered([try RequestBuilder.getLink(named: Self.hostVeth),
                                           try RequestBuilder.deleteLink(name: Self.hostVeth)]))
    }

    /// A host end that is not this attachment's veth (here: another
    /// attachment's alias) is never retired, only deleted the certain way.
    @Test func aForeignHostEndIsDeletedNotRetired() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        let mock = MockNetlinkTransport()
        mock.reply(Reply.link(index: 7, name: Self.hostVeth, alias: "holdfast other eth0", kind: "veth", peerIndex: 2,
                              linkNetnsID: 0, flags: 0))
        mock.reply(Reply.ack())           // ip link del
        mock.reply(Reply.error(ENODEV))   // the bridge lookup for the re-stamp
        var del = DelOperation(request: f.request)
        del.openNetlink = { NetlinkSocket(transport: mock, firstSequence: 0) }
        del.startReaper = { _ in Issue.record("a foreign link is not retired") }
        try del.run()
        #expect(f.leases == 0)
        #expect(mock.requests == numbered([try RequestBuilder.getLink(named: Self.hostVeth),
                                           try RequestBuilder.deleteLink(name: Self.hostVeth),
                                           try RequestBuilder.getLink(named: "hfdel0")]))
    }

    /// Without CNI_NETNS the container end cannot be made inert first, so the
    /// pair is deleted synchronously even though the host end is ours.
    @Test func noNetnsMeansTheSynchronousDelete() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        let mock = MockNetlinkTransport()
        mock.reply(Reply.link(index: 7, name: Self.hostVeth, alias: "holdfast c1 eth0", kind: "veth", peerIndex: 2,
                              linkNetnsID: 0, flags: 0))
        mock.reply(Reply.ack())
        mock.reply(Reply.error(ENODEV))
        var del = DelOperation(request: f.request)
        del.openNetlink = { NetlinkSocket(transport: mock, firstSequence: 0) }
        del.startReaper = { _ in Issue.record("no reaper without a netns") }
        try del.run()
        #expect(f.leases == 0)
        #expect(mock.requests == numbered([try RequestBuilder.getLink(named: Self.hostVeth),
                                           try RequestBuilder.deleteLink(name: Self.hostVeth),
                                           try RequestBuilder.getLink(named: "hfdel0")]))
    }

    @Test func noNetlinkAtAllStillReleasesTheLease() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        var del = DelOperation(request: f.request)
        del.openNetlink = { () throws(NetlinkError) in throw NetlinkError(operation: "socket", kind: .system, errno: EACCES) }
        #expect(throws: NetlinkError.self) { try del.run() }
        #expect(f.leases == 0)
    }
}
