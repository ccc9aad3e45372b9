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
        mock.reply(Reply.error(ENODEV))  // ip link del: already gone (tolerated)
        mock.reply(Reply.error(ENODEV))  // the bridge lookup for the re-stamp: no bridge
        var del = DelOperation(request: f.request)
        del.openNetlink = { NetlinkSocket(transport: mock, firstSequence: 0) }
        try del.run()
        #expect(f.leases == 0)
        var expected = [try RequestBuilder.deleteLink(name: Self.hostVeth), try RequestBuilder.getLink(named: "hfdel0")]
        for i in expected.indices { expected[i].sequence = UInt32(i + 1) }
        #expect(mock.requests == expected)
    }

    @Test func failedVethDeleteStillReleasesButReportsAndDoesNotRestamp() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        let mock = MockNetlinkTransport()
        mock.reply(Reply.error(EPERM, message: "Operation not permitted"))
        var del = DelOperation(request: f.request)
        del.openNetlink = { NetlinkSocket(transport: mock, firstSequence: 0) }
        #expect(throws: NetlinkError.self) { try del.run() }
        #expect(f.leases == 0, "the lease is released even when the kernel step failed")
        // No bridge lookup: with the veth perhaps still live, the store must not be re-stamped.
        #expect(mock.requests.count == 1)
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
