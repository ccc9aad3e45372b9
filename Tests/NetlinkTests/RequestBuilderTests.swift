import Addressing
import Testing
@testable import Netlink

/// Golden bytes for requests, built without a socket. Each hex string is split
/// by segment so a failing byte can be traced to its field; values are in host
/// order (little-endian here), addresses in network order.
@Suite struct RequestBuilderTests {
    static func hex(_ segments: String...) -> String { String(segments.joined().filter { $0 != " " }) }

    @Test func newLinkBridge() throws {
        let message = try RequestBuilder.addBridge(name: "br0", mtu: 1500, vlanFiltering: true)
        #expect(message.hex == Self.hex(
            "4c000000 1000 0506 00000000 00000000",  // nlmsghdr: len 76, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE, seq 0, pid 0
            "00 00 0000 00000000 00000000 00000000",  // ifinfomsg: AF_UNSPEC, no index/flags
            "0800 0300 62723000",                     // IFLA_IFNAME "br0\0"
            "0800 0400 dc050000",                     // IFLA_MTU 1500
            "1c00 1280",                              // IFLA_LINKINFO | NLA_F_NESTED, len 28
            "0b00 0100 62726964676500 00",            //   IFLA_INFO_KIND "bridge\0" + pad
            "0c00 0280",                              //   IFLA_INFO_DATA | NLA_F_NESTED, len 12
            "0500 0700 01 000000"                     //     IFLA_BR_VLAN_FILTERING 1 + pad
        ))
    }

    @Test func newLinkBridgeMinimal() throws {
        let message = try RequestBuilder.addBridge(name: "br0")
        #expect(message.hex == Self.hex(
            "38000000 1000 0506 00000000 00000000",  // nlmsghdr: len 56
            "00 00 0000 00000000 00000000 00000000",  // ifinfomsg
            "0800 0300 62723000",                     // IFLA_IFNAME "br0\0"
            "1000 1280",                              // IFLA_LINKINFO nested, len 16
            "0b00 0100 62726964676500 00"             //   IFLA_INFO_KIND "bridge\0"
        ))
    }

    @Test func newLinkVethWithPeerInNetns() throws {
        let message = try RequestBuilder.addVethPair(name: "veth0", peerName: "eth0", peerNetnsFD: 5)
        #expect(message.hex == Self.hex(
            "68000000 1000 0506 00000000 00000000",  // nlmsghdr: len 104, RTM_NEWLINK, create
            "00 00 0000 00000000 00000000 00000000",  // ifinfomsg
            "0a00 0300 7665746830 00 0000",           // IFLA_IFNAME "veth0\0" + pad
            "3c00 1280",                              // IFLA_LINKINFO nested, len 60
            "0900 0100 76657468 00 000000",           //   IFLA_INFO_KIND "veth\0" + pad
            "2c00 0280",                              //   IFLA_INFO_DATA nested, len 44
            "2800 0180",                              //     VETH_INFO_PEER nested, len 40
            "00 00 0000 00000000 00000000 00000000",  //       peer ifinfomsg
            "0900 0300 65746830 00 000000",           //       IFLA_IFNAME "eth0\0" + pad
            "0800 1c00 05000000"                      //       IFLA_NET_NS_FD 5
        ))
    }

    @Test func newAddrIPv4() throws {
        let message = RequestBuilder.addAddress(IPNetwork("10.22.0.5/16")!, linkIndex: 7)
        #expect(message.hex == Self.hex(
            "30000000 1400 0506 00000000 00000000",  // nlmsghdr: len 48, RTM_NEWADDR, create
            "02 10 00 00 07000000",                   // ifaddrmsg: AF_INET, /16, flags 0, scope 0, ifindex 7
            "0800 0200 0a160005",                     // IFA_LOCAL 10.22.0.5
            "0800 0100 0a160005",                     // IFA_ADDRESS 10.22.0.5
            "0800 0400 0a16ffff"                      // IFA_BROADCAST 10.22.255.255
        ))
    }

    @Test func newAddrIPv6NoDAD() throws {
        let message = RequestBuilder.addAddress(IPNetwork("fd00::5/64")!, linkIndex: 3, noDAD: true)
        #expect(message.hex == Self.hex(
            "48000000 1400 0506 00000000 00000000",           // nlmsghdr: len 72
            "0a 40 02 00 03000000",                            // ifaddrmsg: AF_INET6, /64, IFA_F_NODAD, ifindex 3
            "1400 0200 fd000000000000000000000000000005",      // IFA_LOCAL
            "1400 0100 fd000000000000000000000000000005",      // IFA_ADDRESS
            "0800 0800 02000000"                               // IFA_FLAGS IFA_F_NODAD
        ))
    }

    @Test func newRouteDefaultViaGateway() throws {
        let route = Route(destination: IPNetwork("0.0.0.0/0")!, gateway: IPAddress("10.0.0.1"), outputIndex: 4)
        let message = RequestBuilder.route(route, type: 24, flags: 0x605)
        #expect(message.hex == Self.hex(
            "2c000000 1800 0506 00000000 00000000",  // nlmsghdr: len 44, RTM_NEWROUTE
            "02 00 00 00 fe 03 00 01 00000000",       // rtmsg: AF_INET, /0, table main, RTPROT_BOOT, universe, unicast
            "0800 0500 0a000001",                     // RTA_GATEWAY 10.0.0.1
            "0800 0400 04000000"                      // RTA_OIF 4
        ))
    }

    @Test func bridgePortHairpinIsNestedProtinfoForAFBridge() {
        let message = RequestBuilder.setBridgePort(index: 9, BridgePortSettings(hairpin: true))
        #expect(message.hex == Self.hex(
            "2c000000 1300 0500 00000000 00000000",  // nlmsghdr: len 44, RTM_SETLINK, REQUEST|ACK
            "07 00 0000 09000000 00000000 00000000",  // ifinfomsg: AF_BRIDGE, ifindex 9
            "0c00 0c80",                              // IFLA_PROTINFO (12) | NLA_F_NESTED, len 12
            "0500 0400 01 000000"                     //   IFLA_BRPORT_MODE 1 (hairpin)
        ))
    }

    @Test func sequenceIsStampedInPlace() {
        var message = RequestBuilder.getLink(index: 1)
        message.sequence = 0x0102_0304
        #expect(message.sequence == 0x0102_0304)
        #expect(Array(message.bytes[8..<12]) == [4, 3, 2, 1])
    }

    @Test(arguments: ["", "sixteen-chars-xx", "a\u{0}b"])
    func invalidNamesAreRejectedBeforeSending(name: String) {
        #expect(throws: NetlinkError.self) { try RequestBuilder.addBridge(name: name) }
        do { _ = try RequestBuilder.addBridge(name: name) } catch {
            if case .invalidArgument = error.kind {} else { Issue.record("wrong kind \(error.kind)") }
        }
    }

    @Test func errorHelpers() {
        let exists = NetlinkError(operation: "x", kind: .kernel, errno: 17)
        #expect(exists.isExists && !exists.isNoDevice)
        let nodev = NetlinkError(operation: "x", kind: .kernel, errno: 19)
        #expect(nodev.isNoDevice && nodev.isNotFound && !nodev.isExists)
        let local = NetlinkError(operation: "x", kind: .system, errno: 17)
        #expect(!local.isExists)  // a syscall's EEXIST is not the kernel saying the object exists
    }
}
