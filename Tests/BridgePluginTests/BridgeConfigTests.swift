import Foundation
@testable import BridgePlugin
import Testing

@Suite struct BridgeConfigTests {
    @Test func referenceFieldsDecode() throws {
        let c = try BridgeConfig(json: Data(#"{"bridge":"cni0","isDefaultGateway":true,"ipMasq":true,"mtu":1400,"hairpinMode":true,"vlan":0,"macspoofchk":true}"#.utf8))
        #expect(c.bridge == "cni0" && c.isGateway && c.isDefaultGateway && c.ipMasq && c.hairpinMode && c.macspoofchk)
        #expect(c.mtu == 1400)
        #expect(c.vlan == nil, "vlan 0 means untagged")
        #expect(try BridgeConfig(json: Data("{}".utf8)).bridge == BridgeConfig.defaultBridge)
    }

    @Test(arguments: [#"{"bridge":"a/b"}"#, #"{"bridge":"0123456789abcdef"}"#, #"{"bridge":""}"#,
                      #"{"mtu":20}"#, #"{"vlan":4095}"#, #"{"vlan":-1}"#, #"{"ipMasq":"yes"}"#])
    func invalidFieldsAreRejected(_ json: String) {
        #expect(throws: BridgeConfigError.self) { try BridgeConfig(json: Data(json.utf8)) }
    }

    @Test func hostVethNamesAreStableShortAndDistinct() {
        let a = InterfaceName.hostVeth(containerID: "abc", ifname: "eth0")
        #expect(a == InterfaceName.hostVeth(containerID: "abc", ifname: "eth0"))
        #expect(a.utf8.count == 13 && a.hasPrefix("hf"))
        #expect(a != InterfaceName.hostVeth(containerID: "abc", ifname: "eth1"))
        #expect(InterfaceName.hostVeth(containerID: "ab", ifname: "ceth0") != InterfaceName.hostVeth(containerID: "abc", ifname: "eth0"))
        #expect(InterfaceName.problem(with: a) == nil)
    }

    @Test func masqueradeTableNamesAreValidIdentifiers() {
        let t = Masquerade(network: "my net/../x", subnets: []).table
        #expect(t.hasPrefix("holdfast_my_net"))
        #expect(t.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        #expect(t != Masquerade(network: "my_net_.._x", subnets: []).table)
    }
}
