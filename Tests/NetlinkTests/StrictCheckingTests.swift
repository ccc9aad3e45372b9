import CMnl
import Glibc
import Testing
@testable import Netlink

/// Without NETLINK_GET_STRICT_CHK the kernel ignores IFA_TARGET_NETNSID and
/// dumps the socket's own namespace: such a dump must be refused, never
/// trusted as the peer's addresses (issue 12). Needs no root.
@Suite struct StrictCheckingTests {
    @Test func defaultSocketHasStrictChecking() throws {
        #expect(try NetlinkSocket().hasStrictChecking)
    }

    @Test func dumpByPeerNetnsIDIsRefusedWithoutStrictChecking() throws {
        let nl = NetlinkSocket(transport: try KernelNetlinkTransport(socketOptions: [NETLINK_EXT_ACK, NETLINK_CAP_ACK]))
        #expect(!nl.hasStrictChecking)
        let host = try nl.addresses()
        #expect(!host.isEmpty, "the host has at least loopback's address")
        // nsid 0 is whatever namespace got id 0; without strict checking the
        // kernel would answer with `host` instead.
        #expect(throws: NetlinkError.self) { _ = try nl.addresses(inNetnsID: 0) }
    }
}
