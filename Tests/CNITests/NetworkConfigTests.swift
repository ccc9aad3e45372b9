#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import Testing
@testable import CNI

private func config(_ text: String) throws(CNIError) -> NetworkConfig {
    try NetworkConfig(decoding: Data(text.utf8))
}

private func expectCode(_ code: Int, _ text: String, mentioning word: String? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try config(text)
        Issue.record("expected code \(code)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        if let word {
            #expect(error.description.contains(word), "\(error)", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct NetworkConfigTests {
    static let bridge = #"""
    {"cniVersion":"1.1.0","name":"dbnet","type":"holdfast","bridge":"cni0","mtu":1400,
     "ipam":{"type":"holdfast-ipam","ranges":[[{"subnet":"10.1.0.0/16"}]]},
     "dns":{"nameservers":["10.1.0.1"]},
     "runtimeConfig":{"ips":["10.1.0.9/16"],"mac":"00:11:22:33:44:66"},
     "args":{"cni":{"ips":["10.1.0.10"]}}}
    """#

    @Test func decodesProtocolFieldsAndKeepsTheRest() throws {
        let c = try config(Self.bridge)
        #expect(c.cniVersion == .v1_1_0)
        #expect(c.name == "dbnet")
        #expect(c.type == "holdfast")
        #expect(c.prevResult == nil)
        #expect(c.ipamType == "holdfast-ipam")
        #expect(c.raw["bridge"] == "cni0")
        #expect(c.raw["mtu"]?.intValue == 1400)
        #expect(try c.runtimeIPs() == ["10.1.0.9/16"])
        #expect(try c.runtimeMAC() == "00:11:22:33:44:66")
        #expect(try c.argsIPs() == ["10.1.0.10"])
        #expect(c.validAttachments == nil)
        #expect(c.bytes == Data(Self.bridge.utf8))
    }

    struct Bridge: Decodable { var bridge: String; var mtu: Int?; var ipam: IPAM
        struct IPAM: Decodable { var type: String; var ranges: [[Range]] }
        struct Range: Decodable { var subnet: IPNetwork }
    }

    @Test func pluginSpecificDecoding() throws {
        let b = try config(Self.bridge).decode(Bridge.self)
        #expect(b.bridge == "cni0")
        #expect(b.mtu == 1400)
        #expect(b.ipam.ranges[0][0].subnet == IPNetwork("10.1.0.0/16"))
    }

    @Test func pluginSpecificDecodingErrorNamesTheField() throws {
        let bad = Self.bridge.replacing(#""subnet":"10.1.0.0/16""#, with: #""subnet":"10.1.0.0/99""#)
        do {
            _ = try config(bad).decode(Bridge.self)
            Issue.record("expected code 7")
        } catch {
            #expect(error.code == 7)
            #expect(error.details.contains("ipam.ranges[0][0].subnet"), "\(error)")
        }
        let missing = Self.bridge.replacing(#""bridge":"cni0","#, with: "")
        do {
            _ = try config(missing).decode(Bridge.self)
            Issue.record("expected code 7")
        } catch {
            #expect(error.code == 7)
            #expect(error.details.contains("bridge"), "\(error)")
        }
    }

    @Test func malformedJSONIsCode6() {
        expectCode(6, #"{"cniVersion":"1.1.0","name":"#)
        expectCode(6, "")
        expectCode(6, "not json")
    }

    @Test(arguments: [#"[]"#, #""x""#, "42", "null", "true"])
    func nonObjectIsCode6(_ text: String) {
        expectCode(6, text, mentioning: "object")
    }

    @Test func versionErrors() {
        expectCode(1, #"{"name":"n","type":"t"}"#, mentioning: "cniVersion")
        expectCode(1, #"{"cniVersion":"0.2.0","name":"n","type":"t"}"#, mentioning: "0.2.0")
        expectCode(1, #"{"cniVersion":"9.9.9","name":"n","type":"t"}"#, mentioning: "9.9.9")
        expectCode(6, #"{"cniVersion":1,"name":"n","type":"t"}"#, mentioning: "cniVersion")
    }

    @Test func nameAndTypeAreRequired() {
        expectCode(7, #"{"cniVersion":"1.0.0","type":"t"}"#, mentioning: "name")
        expectCode(7, #"{"cniVersion":"1.0.0","name":"","type":"t"}"#, mentioning: "name")
        expectCode(7, #"{"cniVersion":"1.0.0","name":"../etc","type":"t"}"#, mentioning: "name")
        expectCode(7, #"{"cniVersion":"1.0.0","name":"a/b","type":"t"}"#, mentioning: "name")
        expectCode(7, #"{"cniVersion":"1.0.0","name":"n"}"#, mentioning: "type")
        expectCode(7, #"{"cniVersion":"1.0.0","name":"n","type":""}"#, mentioning: "type")
    }

    @Test func prevResultIn040Shape() throws {
        let c = try config(#"""
        {"cniVersion":"0.4.0","name":"n","type":"t","prevResult":{"cniVersion":"0.4.0",
         "interfaces":[{"name":"eth0","mac":"99:88:77:66:55:44","sandbox":"/var/run/netns/blue"}],
         "ips":[{"version":"4","address":"10.1.0.5/16","gateway":"10.1.0.1","interface":0},
                {"version":"6","address":"fd00::5/64"}],
         "routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],"dns":{}}}
        """#)
        let r = try #require(c.prevResult)
        #expect(r.interfaces == [.init(name: "eth0", mac: "99:88:77:66:55:44", sandbox: "/var/run/netns/blue")])
        #expect(r.interfaces[0].macAddress == MACAddress("99:88:77:66:55:44"))
        #expect(r.ips == [.init(address: IPNetwork("10.1.0.5/16")!, gateway: IPAddress("10.1.0.1"), interface: 0),
                          .init(address: IPNetwork("fd00::5/64")!)])
        #expect(r.routes == [.init(dst: IPNetwork("0.0.0.0/0")!, gw: IPAddress("10.1.0.1"))])
        #expect(r.dns?.isEmpty == true)
    }

    @Test func prevResultIn1xShape() throws {
        let c = try config(#"""
        {"cniVersion":"1.1.0","name":"n","type":"t","prevResult":{"cniVersion":"1.1.0",
         "interfaces":[{"name":"eth0","mtu":1500,"socketPath":"/run/s.sock","pciID":"0000:00:1f.6"}],
         "ips":[{"address":"10.1.0.5/16","interface":0}],
         "routes":[{"dst":"10.2.0.0/16","mtu":1400,"advmss":1360,"priority":10,"table":100,"scope":253}],
         "dns":{"nameservers":["10.1.0.1"],"domain":"example","search":["a.example"],"options":["ndots:2"]}}}
        """#)
        let r = try #require(c.prevResult)
        #expect(r.interfaces[0].mtu == 1500 && r.interfaces[0].socketPath == "/run/s.sock" && r.interfaces[0].pciID == "0000:00:1f.6")
        #expect(r.ips[0].interface == 0 && r.ips[0].gateway == nil)
        #expect(r.routes[0] == .init(dst: IPNetwork("10.2.0.0/16")!, mtu: 1400, advmss: 1360, priority: 10, table: 100, scope: 253))
        #expect(r.dns == .init(nameservers: ["10.1.0.1"], domain: "example", search: ["a.example"], options: ["ndots:2"]))
    }

    @Test func emptyOrNullPrevResult() throws {
        #expect(try config(#"{"cniVersion":"1.0.0","name":"n","type":"t","prevResult":{}}"#).prevResult == CNIResult())
        #expect(try config(#"{"cniVersion":"1.0.0","name":"n","type":"t","prevResult":null}"#).prevResult == nil)
    }

    @Test func malformedPrevResultIsCode6NamingTheField() {
        expectCode(6, #"{"cniVersion":"1.0.0","name":"n","type":"t","prevResult":[]}"#, mentioning: "prevResult")
        expectCode(6, #"{"cniVersion":"1.0.0","name":"n","type":"t","prevResult":{"ips":[{"address":"10.1.0.5"}]}}"#,
                   mentioning: "prevResult.ips[0].address")
        expectCode(6, #"{"cniVersion":"1.0.0","name":"n","type":"t","prevResult":{"ips":[{"version":"6","address":"10.1.0.5/16"}]}}"#,
                   mentioning: "prevResult.ips[0].version")
        expectCode(6, #"{"cniVersion":"1.0.0","name":"n","type":"t","prevResult":{"routes":[{"gw":"10.0.0.1"}]}}"#,
                   mentioning: "prevResult.routes[0].dst")
        expectCode(6, #"{"cniVersion":"1.0.0","name":"n","type":"t","prevResult":{"interfaces":[{"mac":"x"}]}}"#,
                   mentioning: "prevResult.interfaces[0].name")
        expectCode(6, #"{"cniVersion":"1.0.0","name":"n","type":"t","prevResult":{"ips":[{"address":"10.1.0.5/16","interface":-1}]}}"#,
                   mentioning: "interface")
    }

    @Test func validAttachmentsForGC() throws {
        let c = try config(#"""
        {"cniVersion":"1.1.0","name":"n","type":"t","cni.dev/valid-attachments":[
          {"containerID":"c1","ifname":"eth0"},{"containerID":"c2","ifname":"net1"}]}
        """#)
        #expect(c.validAttachments == [Attachment(containerID: "c1", ifname: "eth0"), Attachment(containerID: "c2", ifname: "net1")])
        expectCode(6, #"{"cniVersion":"1.1.0","name":"n","type":"t","cni.dev/valid-attachments":[{"containerID":"c1"}]}"#,
                   mentioning: "valid-attachments[0]")
        #expect(try config(#"{"cniVersion":"1.1.0","name":"n","type":"t","cni.dev/valid-attachments":[]}"#).validAttachments == [])
    }

    @Test func capabilityAccessorsRejectWrongTypes() throws {
        let c = try config(#"{"cniVersion":"1.1.0","name":"n","type":"t","runtimeConfig":{"ips":"10.0.0.1","mac":5},"args":{"cni":{"ips":[1]}}}"#)
        #expect(throws: CNIError.self) { try c.runtimeIPs() }
        #expect(throws: CNIError.self) { try c.runtimeMAC() }
        #expect(throws: CNIError.self) { try c.argsIPs() }
        let none = try config(#"{"cniVersion":"1.1.0","name":"n","type":"t"}"#)
        #expect(try none.runtimeIPs() == [] && none.runtimeMAC() == nil && none.argsIPs() == [])
    }

    @Test func delegationBytes() throws {
        let c = try config(Self.bridge)
        #expect(c.bytes(replacingPrevResult: nil) == c.bytes)  // unchanged: exact original bytes
        let r = CNIResult(ips: [.init(address: IPNetwork("10.1.0.5/16")!)], dns: CNIResult.DNS())
        let replaced = try config(String(decoding: c.bytes(replacingPrevResult: r), as: UTF8.self))
        #expect(replaced.prevResult == r)
        #expect(replaced.raw["bridge"] == "cni0")
        #expect(replaced.raw["ipam"] == c.raw["ipam"])
    }
}
