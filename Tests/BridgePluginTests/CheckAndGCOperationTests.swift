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

/// (Test support.) A network config (with the given extra top-level keys) on a store in a
/// fresh temporary directory, and its in-process lease service.
struct OperationFixture {
    let dir: String
    let config: NetworkConfig
    let service: IPAMService

    init(version: String = "1.0.0", extra: String = "") throws {
        var template = Array("/tmp/holdfast-op-test-XXXXXX".utf8CString)
        dir = String(cString: try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }))
        let json = #"{"cniVersion":"\#(version)","name":"optest","type":"holdfast","bridge":"hfop0","#
            + #""ipam":{"type":"holdfast-ipam","dataDir":"\#(dir)","ranges":[[{"subnet":"10.78.0.0/28"}]]}\#(extra)}"#
        config = try NetworkConfig(decoding: Data(json.utf8))
        service = try HoldfastIPAMPlugin.service(for: config)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: dir) }

    @discardableResult
    func allocate(_ containerID: String) throws -> IPAddress {
        try service.allocate(Addressing.Attachment(containerID: containerID, ifname: "eth0"),
                             details: AttachmentDetails(netns: nil)).leases[0].address
    }

    func request(_ command: CNICommand, netns: String? = nil) -> CNIRequest {
        CNIRequest(environment: CNIEnvironment(command: command, containerID: "c1", netns: netns, ifname: "eth0"),
                   config: config)
    }

    var leaseHolders: [String] { ((try? service.store.read { try $0.leases() }) ?? []).map(\.containerID).sorted() }
}

func numbered(_ messages: [NetlinkMessage]) -> [NetlinkMessage] {
    var m = messages
    for i in m.indices { m[i].sequence = UInt32(i + 1) }
    return m
}

/// GC against a recording netlink transport: the released attachments' host
/// veths are deleted, and nothing else is touched.
@Suite struct GCOperationTests {
    static let valid = #","cni.dev/valid-attachments":[{"containerID":"c1","ifname":"eth0"}]"#

    /// The link dump GC sweeps for retired pairs, with `links` in it.
    static func dump(_ links: [UInt8]...) -> [UInt8] { links.reduce([], +) + Reply.done() }

    @Test func releasesTheUnlistedAttachmentAndDeletesItsVeth() throws {
        let f = try OperationFixture(version: "1.1.0", extra: Self.valid)
        defer { f.cleanup() }
        try f.allocate("c1")
        try f.allocate("c2")
        let mock = MockNetlinkTransport()
        mock.reply(Reply.ack())
        mock.reply(Self.dump())
        var gc = GCOperation(request: f.request(.gc))
        gc.openNetlink = { NetlinkSocket(transport: mock, firstSequence: 0) }
        try gc.run()
        #expect(f.leaseHolders == ["c1"])
        let veth = InterfaceName.hostVeth(containerID: "c2", ifname: "eth0")
        #expect(mock.requests == numbered([try RequestBuilder.deleteLink(name: veth), RequestBuilder.dumpLinks()]))
    }

    @Test func aFailedVethDeleteIsLoggedNotFatal() throws {
        let f = try OperationFixture(version: "1.1.0", extra: Self.valid)
        defer { f.cleanup() }
        try f.allocate("c1")
        try f.allocate("c2")
        let mock = MockNetlinkTransport()
        mock.reply(Reply.error(EPERM, message: "Operation not permitted"))
        mock.reply(Reply.error(EPERM, message: "Operation not permitted"))
        var gc = GCOperation(request: f.request(.gc))
        gc.openNetlink = { NetlinkSocket(transport: mock, firstSequence: 0) }
        try gc.run()
        #expect(f.leaseHolders == ["c1"], "the lease is released: the veth and the sweep are best effort")
        #expect(mock.requests.count == 2)
    }

    /// With no lease to release, GC only sweeps: it deletes the retired veth
    /// (by its alias) and leaves a live port and a foreign veth alone.
    @Test func nothingStaleSweepsOnlyRetiredPairs() throws {
        let f = try OperationFixture(version: "1.1.0", extra: Self.valid)
        defer { f.cleanup() }
        try f.allocate("c1")
        let mock = MockNetlinkTransport()
        mock.reply(Self.dump(
            Reply.link(index: 5, name: "hfr00000000abcd", alias: VethRetirement.retiredAlias, kind: "veth"),
            Reply.link(index: 6, name: InterfaceName.hostVeth(containerID: "c1", ifname: "eth0"),
                       master: 3, alias: "holdfast c1 eth0", kind: "veth"),
            Reply.link(index: 8, name: "vethforeign", kind: "veth"),
            Reply.link(index: 9, name: "dummyretired", alias: VethRetirement.retiredAlias, kind: "dummy")))
        mock.reply(Reply.ack())
        var gc = GCOperation(request: f.request(.gc))
        gc.openNetlink = { NetlinkSocket(transport: mock, firstSequence: 0) }
        try gc.run()
        #expect(f.leaseHolders == ["c1"])
        #expect(mock.requests == numbered([RequestBuilder.dumpLinks(), try RequestBuilder.deleteLink(index: 5)]))
    }
}

/// CHECK's host-side checks against a recording netlink transport. The
/// container netns is this process's own (`/proc/self/ns/net`: it opens
/// without root); only the happy path, which enters it, needs root.
@Suite struct CheckOperationTests {
    static let hostVeth = InterfaceName.hostVeth(containerID: "c1", ifname: "eth0")
    static let prev = #","prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.78.0.2/28"}]}"#

    func run(_ f: OperationFixture, _ mock: MockNetlinkTransport) throws {
        var check = CheckOperation(request: f.request(.check, netns: "/proc/self/ns/net"))
        check.openNetlink = { NetlinkSocket(transport: mock, firstSequence: 0) }
        try check.run()
    }

    func expectCheckFailed(_ f: OperationFixture, _ mock: MockNetlinkTransport, containing words: String) {
        #expect {
            try run(f, mock)
        } throws: { error in
            guard case BridgeError.checkFailed(let m) = error else { return false }
            return m.contains(words)
        }
    }

    @Test func aMissingBridgeFails() throws {
        let f = try OperationFixture(extra: Self.prev)
        defer { f.cleanup() }
        try f.allocate("c1")
        let mock = MockNetlinkTransport()
        mock.reply(Reply.error(ENODEV))
        expectCheckFailed(f, mock, containing: "bridge hfop0 is missing")
        #expect(mock.requests == numbered([try RequestBuilder.getLink(named: "hfop0")]))
    }

    @Test func aLinkThatIsNotABridgeFails() throws {
        let f = try OperationFixture(extra: Self.prev)
        defer { f.cleanup() }
        let mock = MockNetlinkTransport()
        mock.reply(Reply.link(index: 3, name: "hfop0", kind: "dummy", flags: 0), Reply.ack())
        expectCheckFailed(f, mock, containing: "bridge hfop0 is missing")
    }

    @Test func aMissingHostVethFails() throws {
        let f = try OperationFixture(extra: Self.prev)
        defer { f.cleanup() }
        let mock = MockNetlinkTransport()
        mock.reply(Reply.link(index: 3, name: "hfop0", kind: "bridge", flags: 0), Reply.ack())
        mock.reply(Reply.error(ENODEV))
        expectCheckFailed(f, mock, containing: "host veth \(Self.hostVeth) is missing")
        #expect(mock.requests == numbered([try RequestBuilder.getLink(named: "hfop0"),
                                           try RequestBuilder.getLink(named: Self.hostVeth)]))
    }

    @Test func aHostVethOnAnotherMasterFails() throws {
        let f = try OperationFixture(extra: Self.prev)
        defer { f.cleanup() }
        let mock = MockNetlinkTransport()
        mock.reply(Reply.link(index: 3, name: "hfop0", kind: "bridge", flags: 0), Reply.ack())
        mock.reply(Reply.link(index: 9, name: Self.hostVeth, master: 4, kind: "veth", flags: 0), Reply.ack())
        expectCheckFailed(f, mock, containing: "is not on hfop0")
    }

    @Test(.enabled(if: getuid() == 0, "enters a network namespace (setns needs CAP_SYS_ADMIN)"))
    func everythingInPlacePassesAndAMissingAddressFails() throws {
        let f = try OperationFixture(extra: Self.prev)
        defer { f.cleanup() }
        try #require(try f.allocate("c1") == IPAddress("10.78.0.2")!)
        func script(_ mock: MockNetlinkTransport, address: [UInt8]) {
            mock.reply(Reply.link(index: 3, name: "hfop0", kind: "bridge", flags: 0), Reply.ack())
            mock.reply(Reply.link(index: 9, name: Self.hostVeth, master: 3, kind: "veth", flags: 0), Reply.ack())
            mock.reply(Reply.link(index: 2, name: "eth0", kind: "veth", flags: 0), Reply.ack())
            mock.reply(Reply.address(index: 2, address, prefix: 28), Reply.done())
            mock.reply(Reply.done())
        }
        let good = MockNetlinkTransport()
        script(good, address: [10, 78, 0, 2])
        try run(f, good)
        #expect(good.requests.count == 5)
        let bad = MockNetlinkTransport()
        script(bad, address: [10, 78, 0, 3])
        expectCheckFailed(f, bad, containing: "address 10.78.0.2/28 is missing on eth0")
    }
}
