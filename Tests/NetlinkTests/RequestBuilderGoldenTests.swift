import Addressing
import CMnl
import Glibc
import Testing
@testable import Netlink

/// Golden bytes for the builders `RequestBuilderTests` does not cover, so every
/// request a verb sends is pinned. Segments as there: nlmsghdr (16 B) is
/// `len type flags seq pid`; flags 0005 = REQUEST|ACK, 0301 = REQUEST|DUMP,
/// 0605 = REQUEST|ACK|EXCL|CREATE. Integers are little-endian, addresses in
/// network order. ifinfomsg (16 B) is `family pad type index flags change`.
@Suite struct RequestBuilderGoldenTests {
    static func hex(_ segments: String...) -> String { String(segments.joined().filter { $0 != " " }) }

    @Test func getLinkByName() throws {
        #expect(try RequestBuilder.getLink(named: "eth0").hex == Self.hex(
            "34000000 1200 0500 00000000 00000000",  // len 52, RTM_GETLINK, REQUEST|ACK
            "00 00 0000 00000000 00000000 00000000",  // ifinfomsg: any family, no index
            "0900 0300 65746830 00 000000",           // IFLA_IFNAME "eth0\0" + pad
            "0800 1d00 08000000"                      // IFLA_EXT_MASK RTEXT_FILTER_SKIP_STATS
        ))
    }

    @Test func getLinkByIndex() {
        #expect(RequestBuilder.getLink(index: 7).hex == Self.hex(
            "28000000 1200 0500 00000000 00000000",  // len 40, RTM_GETLINK, REQUEST|ACK
            "00 00 0000 07000000 00000000 00000000",  // ifinfomsg: ifindex 7
            "0800 1d00 08000000"                      // IFLA_EXT_MASK SKIP_STATS
        ))
    }

    @Test func dumpLinksAllAndByMaster() {
        #expect(RequestBuilder.dumpLinks().hex == Self.hex(
            "28000000 1200 0103 00000000 00000000",  // len 40, RTM_GETLINK, REQUEST|DUMP
            "00 00 0000 00000000 00000000 00000000",  // ifinfomsg
            "0800 1d00 08000000"                      // IFLA_EXT_MASK SKIP_STATS
        ))
        #expect(RequestBuilder.dumpLinks(masterIndex: 3).hex == Self.hex(
            "30000000 1200 0103 00000000 00000000",  // len 48, RTM_GETLINK, REQUEST|DUMP
            "00 00 0000 00000000 00000000 00000000",  // ifinfomsg
            "0800 1d00 08000000",                     // IFLA_EXT_MASK SKIP_STATS
            "0800 0a00 03000000"                      // IFLA_MASTER 3 (strict dump filter)
        ))
    }

    @Test func deleteLinkByIndexAndByName() throws {
        #expect(try RequestBuilder.deleteLink(index: 9).hex == Self.hex(
            "20000000 1100 0500 00000000 00000000",  // len 32, RTM_DELLINK, REQUEST|ACK
            "00 00 0000 09000000 00000000 00000000"   // ifinfomsg: ifindex 9
        ))
        #expect(try RequestBuilder.deleteLink(name: "veth0").hex == Self.hex(
            "2c000000 1100 0500 00000000 00000000",  // len 44, RTM_DELLINK
            "00 00 0000 00000000 00000000 00000000",  // ifinfomsg: no index
            "0a00 0300 7665746830 00 0000"            // IFLA_IFNAME "veth0\0" + pad
        ))
    }

    @Test func setFlagTouchesOnlyItsBit() {
        #expect(RequestBuilder.setFlag(index: 7, flag: UInt32(IFF_UP), on: true).hex == Self.hex(
            "20000000 1000 0500 00000000 00000000",  // len 32, RTM_NEWLINK, REQUEST|ACK
            "00 00 0000 07000000 01000000 01000000"   // ifindex 7, flags IFF_UP, change IFF_UP
        ))
        #expect(RequestBuilder.setFlag(index: 7, flag: UInt32(IFF_PROMISC), on: false).hex == Self.hex(
            "20000000 1000 0500 00000000 00000000",
            "00 00 0000 07000000 00000000 00010000"   // flags 0, change IFF_PROMISC (0x100)
        ))
    }

    /// The bridge's alias carries the store stamp (`StoreStamp.alias`).
    @Test func aliasCarryingTheStoreStamp() {
        #expect(RequestBuilder.setLink(index: 4, alias: "holdfast-store ab12 7 3 2").hex == Self.hex(
            "40000000 1000 0500 00000000 00000000",  // len 64, RTM_NEWLINK, REQUEST|ACK
            "00 00 0000 04000000 00000000 00000000",  // ifindex 4, no flag change
            "1e00 1400",                              // IFLA_IFALIAS, len 30
            "686f6c64666173742d73746f7265 20 61623132 20 37 20 33 20 32 00", // "holdfast-store ab12 7 3 2\0"
            "0000"                                    // pad to 4
        ))
    }

    @Test func attachSetsAliasMasterAndUpInOneMessage() {
        #expect(RequestBuilder.setLink(index: 8, masterIndex: 4, alias: "holdfast c1 eth0", up: true).hex == Self.hex(
            "40000000 1000 0500 00000000 00000000",  // len 64, RTM_NEWLINK
            "00 00 0000 08000000 01000000 01000000",  // ifindex 8, IFF_UP set and changed
            "1500 1400 686f6c6466617374 20 6331 20 65746830 00 000000", // IFLA_IFALIAS "holdfast c1 eth0\0" + pad
            "0800 0a00 04000000"                      // IFLA_MASTER 4
        ))
    }

    @Test func setLinkNetnsMTUAndMAC() {
        #expect(RequestBuilder.setLink(index: 8, netnsFD: 5).hex == Self.hex(
            "28000000 1000 0500 00000000 00000000",  // len 40, RTM_NEWLINK
            "00 00 0000 08000000 00000000 00000000",  // ifindex 8
            "0800 1c00 05000000"                      // IFLA_NET_NS_FD 5
        ))
        #expect(RequestBuilder.setLink(index: 8, mtu: 1400, mac: MACAddress(bytes: [2, 0, 0, 0, 0, 1])!).hex == Self.hex(
            "34000000 1000 0500 00000000 00000000",  // len 52
            "00 00 0000 08000000 00000000 00000000",  // ifindex 8
            "0800 0400 78050000",                     // IFLA_MTU 1400
            "0a00 0100 020000000001 0000"             // IFLA_ADDRESS 02:00:00:00:00:01 + pad
        ))
    }

    @Test func addBridgeWithMTUAndMAC() throws {
        #expect(try RequestBuilder.addBridge(name: "br0", mtu: 9000, mac: MACAddress(bytes: [2, 0, 0, 0, 0, 1])!).hex == Self.hex(
            "4c000000 1000 0506 00000000 00000000",  // len 76, RTM_NEWLINK, create
            "00 00 0000 00000000 00000000 00000000",  // ifinfomsg
            "0800 0300 62723000",                     // IFLA_IFNAME "br0\0"
            "0800 0400 28230000",                     // IFLA_MTU 9000
            "0a00 0100 020000000001 0000",            // IFLA_ADDRESS + pad
            "1000 1280",                              // IFLA_LINKINFO nested, len 16
            "0b00 0100 62726964676500 00"             //   IFLA_INFO_KIND "bridge\0" + pad
        ))
    }

    @Test func bridgeVLANAddDeleteAndDump() throws {
        #expect(try RequestBuilder.bridgeVLAN(add: true, portIndex: 8, vid: 100, pvid: true, untagged: true).hex == Self.hex(
            "2c000000 1300 0500 00000000 00000000",  // len 44, RTM_SETLINK, REQUEST|ACK
            "07 00 0000 08000000 00000000 00000000",  // ifinfomsg: AF_BRIDGE, port ifindex 8
            "0c00 1a80",                              // IFLA_AF_SPEC nested, len 12
            "0800 0200 0600 6400"                     //   IFLA_BRIDGE_VLAN_INFO flags PVID|UNTAGGED, vid 100
        ))
        #expect(try RequestBuilder.bridgeVLAN(add: false, portIndex: 8, vid: 100, pvid: false, untagged: false).hex == Self.hex(
            "2c000000 1100 0500 00000000 00000000",  // RTM_DELLINK
            "07 00 0000 08000000 00000000 00000000",  // AF_BRIDGE, ifindex 8
            "0c00 1a80",                              // IFLA_AF_SPEC nested
            "0800 0200 0000 6400"                     //   flags 0, vid 100
        ))
        #expect(RequestBuilder.dumpBridgeVLANs().hex == Self.hex(
            "28000000 1200 0103 00000000 00000000",  // len 40, RTM_GETLINK, REQUEST|DUMP
            "07 00 0000 00000000 00000000 00000000",  // AF_BRIDGE
            "0800 1d00 02000000"                      // IFLA_EXT_MASK RTEXT_FILTER_BRVLAN
        ))
    }

    @Test(arguments: [0, 4095])
    func vlanIDOutOfRangeIsRejected(vid: UInt16) {
        #expect(throws: NetlinkError.self) {
            _ = try RequestBuilder.bridgeVLAN(add: true, portIndex: 1, vid: vid, pvid: false, untagged: false)
        }
    }

    @Test func nsidGetAndSet() {
        #expect(RequestBuilder.getNSID(fd: 5).hex == Self.hex(
            "1c000000 5a00 0500 00000000 00000000",  // len 28, RTM_GETNSID, REQUEST|ACK
            "00 000000",                              // rtgenmsg AF_UNSPEC + pad to 4
            "0800 0300 05000000"                      // NETNSA_FD 5
        ))
        #expect(RequestBuilder.setNSID(fd: 5).hex == Self.hex(
            "24000000 5800 0506 00000000 00000000",  // len 36, RTM_NEWNSID, create
            "00 000000",                              // rtgenmsg + pad
            "0800 0300 05000000",                     // NETNSA_FD 5
            "0800 0100 ffffffff"                      // NETNSA_NSID -1: the kernel picks
        ))
    }

    @Test func deleteAddress() {
        #expect(RequestBuilder.deleteAddress(IPNetwork("10.22.0.5/16")!, linkIndex: 7).hex == Self.hex(
            "28000000 1500 0500 00000000 00000000",  // len 40, RTM_DELADDR, REQUEST|ACK
            "02 10 00 00 07000000",                   // ifaddrmsg: AF_INET, /16, ifindex 7
            "0800 0200 0a160005",                     // IFA_LOCAL 10.22.0.5
            "0800 0100 0a160005"                      // IFA_ADDRESS 10.22.0.5
        ))
    }

    @Test func addressDumpsByNetnsIDAndByLink() {
        #expect(RequestBuilder.dumpAddresses(family: .ipv4, netnsID: 3).hex == Self.hex(
            "20000000 1600 0103 00000000 00000000",  // len 32, RTM_GETADDR, REQUEST|DUMP
            "02 00 00 00 00000000",                   // ifaddrmsg: AF_INET, all links
            "0800 0a00 03000000"                      // IFA_TARGET_NETNSID 3
        ))
        #expect(RequestBuilder.dumpAddresses(family: nil, linkIndex: 2).hex == Self.hex(
            "18000000 1600 0103 00000000 00000000",  // len 24, RTM_GETADDR, REQUEST|DUMP
            "00 00 00 00 02000000"                    // ifaddrmsg: any family, ifindex 2
        ))
    }

    @Test func deleteRouteMatchesAnyScope() {
        let route = Route(destination: IPNetwork("0.0.0.0/0")!, gateway: IPAddress("10.22.0.1"))
        #expect(RequestBuilder.route(route, type: Int(RTM_DELROUTE), flags: NLM_F_ACK).hex == Self.hex(
            "24000000 1900 0500 00000000 00000000",  // len 36, RTM_DELROUTE, REQUEST|ACK
            "02 00 00 00 fe 00 ff 00 00000000",       // rtmsg: AF_INET, /0, table main, proto 0, scope NOWHERE, type 0
            "0800 0500 0a160001"                      // RTA_GATEWAY 10.22.0.1
        ))
    }

    @Test func routeAndNeighbourDumps() {
        #expect(RequestBuilder.dumpRoutes(family: .ipv6).hex == Self.hex(
            "1c000000 1a00 0103 00000000 00000000",  // len 28, RTM_GETROUTE, REQUEST|DUMP
            "0a 00 00 00 00 00 00 00 00000000"        // rtmsg: AF_INET6, rest 0
        ))
        #expect(RequestBuilder.dumpNeighbours(family: .ipv4, linkIndex: 4).hex == Self.hex(
            "24000000 1e00 0103 00000000 00000000",  // len 36, RTM_GETNEIGH, REQUEST|DUMP
            "02 00 0000 00000000 0000 00 00",         // ndmsg: AF_INET, ifindex 0 (strict check)
            "0800 0800 04000000"                      // NDA_IFINDEX 4
        ))
    }
}
