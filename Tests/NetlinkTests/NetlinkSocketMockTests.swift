import Addressing
import CMnl
import Glibc
import Testing
@testable import Netlink
import NetlinkTesting

/// `NetlinkSocket` over a recording mock: the exact request each verb sends,
/// and how canned (and malformed) replies are parsed, without root.
@Suite struct NetlinkSocketMockTests {
    static func session(_ mock: MockNetlinkTransport) -> NetlinkSocket {
        NetlinkSocket(transport: mock, firstSequence: 41)
    }

    @Test func requestIsStampedWithTheNextSequenceAndSentAsBuilt() throws {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        mock.reply(Reply.ack())
        try socket.setLink(index: 7, up: true)
        mock.reply(Reply.ack())
        try socket.setLink(index: 7, up: false)
        #expect(mock.requests.map(\.sequence) == [42, 43])
        var expected = RequestBuilder.setFlag(index: 7, flag: UInt32(IFF_UP), on: true)
        expected.sequence = 42
        #expect(mock.requests[0] == expected)
    }

    @Test func kernelErrorCarriesErrnoAndExtackText() {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        mock.reply(Reply.error(EEXIST, message: "File exists"))
        do {
            try socket.addBridge(name: "hf-br0")
            Issue.record("expected EEXIST")
        } catch {
            #expect(error.isExists)
            #expect(error.kernelMessage == "File exists")
        }
    }

    @Test func getLinkParsesTheAnswerBeforeTheAck() throws {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        mock.reply(Reply.link(index: 12, name: "hf-veth1", mtu: 1400, master: 3, alias: "holdfast c1 eth0",
                              mac: [0x02, 0, 0, 0, 0, 0x0c], flags: 0),
                   Reply.ack())
        let link = try #require(try socket.link(named: "hf-veth1"))
        #expect(link.index == 12 && link.name == "hf-veth1" && link.mtu == 1400 && link.masterIndex == 3)
        #expect(link.alias == "holdfast c1 eth0")
        #expect(link.mac == MACAddress(bytes: [0x02, 0, 0, 0, 0, 0x0c]))
        #expect(link.isUp)
    }

    @Test func missingLinkIsNilNotAnError() throws {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        mock.reply(Reply.error(ENODEV))
        #expect(try socket.link(named: "nope") == nil)
    }

    @Test func dumpCollectsEveryBatchUntilDone() throws {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        // Two datagrams: two links, then one more link and NLMSG_DONE.
        mock.reply(Reply.link(index: 1, name: "lo") + Reply.link(index: 2, name: "eth0", kind: "veth"),
                   Reply.link(index: 3, name: "br0", kind: "bridge") + Reply.done())
        let links = try socket.links()
        #expect(links.map(\.name) == ["lo", "eth0", "br0"])
        #expect(links.map(\.kind) == [nil, "veth", "bridge"])
    }

    @Test func bridgePortsAreFilteredAgainEvenIfTheKernelIgnoresTheFilter() throws {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        mock.reply(Reply.link(index: 5, name: "p1", master: 3) + Reply.link(index: 6, name: "other", master: 9)
                   + Reply.link(index: 7, name: "loose") + Reply.done())
        #expect(try socket.bridgePorts(bridgeIndex: 3).map(\.index) == [5])
    }

    @Test func interruptedDumpIsRestartedAndReportsEachEntryOnce() throws {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        let intr = Int32(NLM_F_MULTI | NLM_F_DUMP_INTR)
        mock.reply(Reply.link(index: 1, name: "lo", flags: intr) + Reply.done(flags: intr))
        mock.reply(Reply.link(index: 1, name: "lo") + Reply.link(index: 2, name: "eth0") + Reply.done())
        #expect(try socket.links().map(\.name) == ["lo", "eth0"])
        #expect(mock.requests.count == 2)
    }

    @Test func addressDumpInAPeerNamespaceParsesTargetNetnsID() throws {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        mock.reply(Reply.address(index: 2, [10, 22, 0, 5], prefix: 16, netnsID: 4) + Reply.done())
        let addresses = try socket.addresses(inNetnsID: 4, family: .ipv4)
        #expect(addresses == [InterfaceAddress(linkIndex: 2, address: IPNetwork("10.22.0.5/16")!, netnsID: 4)])
        // The request asked the kernel for that namespace.
        #expect(mock.requests[0].bytes == { var m = RequestBuilder.dumpAddresses(family: .ipv4, netnsID: 4); m.sequence = 42; return m.bytes }())
    }

    @Test func midDumpErrorInDoneIsAKernelError() {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        mock.reply(Reply.link(index: 1, name: "lo") + Reply.done(errno: EINVAL))
        do {
            _ = try socket.links()
            Issue.record("expected EINVAL")
        } catch {
            #expect(error.kind == .kernel && error.errno == EINVAL)
        }
    }

    @Test func replyWithAStaleSequenceIsRejected() {
        let mock = MockNetlinkTransport()
        mock.stampSequence = false  // the reply below keeps the wrong sequence it was given
        let socket = Self.session(mock)
        mock.reply(MockNetlinkTransport.stamp(Reply.ack(), sequence: 7))
        do {
            try socket.setLink(index: 1, up: true)
            Issue.record("expected a sequence mismatch")
        } catch {
            #expect(error.kind == .unexpectedReply && error.errno == EPROTO)
        }
    }

    @Test func linkWithoutANameIsMalformed() {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        let nameless = Reply.message(type: RTM_NEWLINK, flags: Int32(NLM_F_MULTI)) { w in
            w.extraHeader(ifinfomsg())
            w.u32(IFLA_MTU, 1500)
        }
        mock.reply(nameless + Reply.done())
        do {
            _ = try socket.links()
            Issue.record("expected malformedReply")
        } catch {
            #expect(error.kind == .malformedReply("no IFLA_IFNAME"))
        }
    }

    @Test func truncatedFamilyHeaderIsMalformed() {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        // RTM_NEWADDR whose payload is 4 bytes, shorter than ifaddrmsg (8).
        let short = Reply.message(type: RTM_NEWADDR, flags: Int32(NLM_F_MULTI)) { w in w.extraHeader(UInt32(0)) }
        mock.reply(short + Reply.done())
        do {
            _ = try socket.addresses()
            Issue.record("expected a malformed reply")
        } catch {
            if case .malformedReply = error.kind {} else { Issue.record("got \(error)") }
        }
    }

    @Test func shortErrorMessageIsMalformed() {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        // NLMSG_ERROR with only the 4-byte error code, no echoed header.
        let short = Reply.message(type: NLMSG_ERROR) { w in w.extraHeader(Int32(-EPERM)) }
        mock.reply(short)
        do {
            try socket.setLink(index: 1, up: true)
            Issue.record("expected a malformed reply")
        } catch {
            #expect(error.kind == .malformedReply("short NLMSG_ERROR"))
        }
    }

    @Test func nsidGetParsesTheAnswerAndNoneIsNil() throws {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        mock.reply(Self.nsidReply(6), Reply.ack())
        #expect(try socket.nsid(of: 5) == 6)
        mock.reply(Self.nsidReply(-1), Reply.ack())
        #expect(try socket.nsid(of: 5) == nil)
    }

    static func nsidReply(_ id: Int32) -> [UInt8] {
        Reply.message(type: RTM_NEWNSID) { w in
            var header = rtgenmsg()
            header.rtgen_family = UInt8(AF_UNSPEC)
            w.extraHeader(header)
            w.s32(NETNSA_NSID, id)
        }
    }

    @Test func closedSocketFailsWithEBADF() {
        let mock = MockNetlinkTransport()
        let socket = Self.session(mock)
        socket.close()
        #expect(socket.fileDescriptor == -1)
        do {
            try socket.setLink(index: 1, up: true)
            Issue.record("expected EBADF")
        } catch {
            #expect(error.errno == EBADF)
        }
    }
}
