#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import Testing
@testable import CNI

/// A bridge plugin's result: host bridge, host veth, container interface,
/// dual-stack addresses, one default route and one 1.1.0-style route.
let bridgeResult = CNIResult(
    interfaces: [
        .init(name: "cni0", mac: "00:11:22:33:44:55"),
        .init(name: "veth3243", mac: "55:44:33:22:11:11"),
        .init(name: "eth0", mac: MACAddress("99:88:77:66:55:44"), mtu: 1500, sandbox: "/var/run/netns/blue"),
    ],
    ips: [
        .init(address: IPNetwork("10.1.0.5/16")!, gateway: IPAddress("10.1.0.1"), interface: 2),
        .init(address: IPNetwork("fd00::5/64")!, gateway: IPAddress("fd00::1"), interface: 2),
    ],
    routes: [
        .init(dst: IPNetwork("0.0.0.0/0")!),
        .init(dst: IPNetwork("10.2.0.0/16")!, gw: IPAddress("10.1.0.254"), mtu: 1400, table: 100, scope: 0),
    ],
    dns: .init(nameservers: ["10.1.0.1"]))

/// An IPAM plugin's result: no interfaces, no ips[].interface, no DNS.
let ipamResult = CNIResult(
    ips: [.init(address: IPNetwork("10.1.0.5/16")!, gateway: IPAddress("10.1.0.1"))],
    routes: [.init(dst: IPNetwork("0.0.0.0/0")!)])

@Suite struct CNIResultEncodingTests {
    struct Golden: Sendable, CustomStringConvertible {
        var version: CNIVersion
        var bridge: String
        var ipam: String
        var description: String { version.rawValue }
    }

    static let goldens: [Golden] = [
        Golden(
            version: .v0_3_1,
            bridge: #"{"cniVersion":"0.3.1","dns":{"nameservers":["10.1.0.1"]},"interfaces":[{"mac":"00:11:22:33:44:55","name":"cni0"},{"mac":"55:44:33:22:11:11","name":"veth3243"},{"mac":"99:88:77:66:55:44","name":"eth0","sandbox":"/var/run/netns/blue"}],"ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1","interface":2,"version":"4"},{"address":"fd00::5/64","gateway":"fd00::1","interface":2,"version":"6"}],"routes":[{"dst":"0.0.0.0/0"},{"dst":"10.2.0.0/16","gw":"10.1.0.254"}]}"#,
            ipam: #"{"cniVersion":"0.3.1","dns":{},"ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1","version":"4"}],"routes":[{"dst":"0.0.0.0/0"}]}"#),
        Golden(
            version: .v0_4_0,
            bridge: #"{"cniVersion":"0.4.0","dns":{"nameservers":["10.1.0.1"]},"interfaces":[{"mac":"00:11:22:33:44:55","name":"cni0"},{"mac":"55:44:33:22:11:11","name":"veth3243"},{"mac":"99:88:77:66:55:44","name":"eth0","sandbox":"/var/run/netns/blue"}],"ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1","interface":2,"version":"4"},{"address":"fd00::5/64","gateway":"fd00::1","interface":2,"version":"6"}],"routes":[{"dst":"0.0.0.0/0"},{"dst":"10.2.0.0/16","gw":"10.1.0.254"}]}"#,
            ipam: #"{"cniVersion":"0.4.0","dns":{},"ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1","version":"4"}],"routes":[{"dst":"0.0.0.0/0"}]}"#),
        Golden(
            version: .v1_0_0,
            bridge: #"{"cniVersion":"1.0.0","dns":{"nameservers":["10.1.0.1"]},"interfaces":[{"mac":"00:11:22:33:44:55","name":"cni0"},{"mac":"55:44:33:22:11:11","name":"veth3243"},{"mac":"99:88:77:66:55:44","name":"eth0","sandbox":"/var/run/netns/blue"}],"ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1","interface":2},{"address":"fd00::5/64","gateway":"fd00::1","interface":2}],"routes":[{"dst":"0.0.0.0/0"},{"dst":"10.2.0.0/16","gw":"10.1.0.254"}]}"#,
            ipam: #"{"cniVersion":"1.0.0","dns":{},"ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0"}]}"#),
        Golden(
            version: .v1_1_0,
            bridge: #"{"cniVersion":"1.1.0","dns":{"nameservers":["10.1.0.1"]},"interfaces":[{"mac":"00:11:22:33:44:55","name":"cni0"},{"mac":"55:44:33:22:11:11","name":"veth3243"},{"mac":"99:88:77:66:55:44","mtu":1500,"name":"eth0","sandbox":"/var/run/netns/blue"}],"ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1","interface":2},{"address":"fd00::5/64","gateway":"fd00::1","interface":2}],"routes":[{"dst":"0.0.0.0/0"},{"dst":"10.2.0.0/16","gw":"10.1.0.254","mtu":1400,"scope":0,"table":100}]}"#,
            ipam: #"{"cniVersion":"1.1.0","dns":{},"ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0"}]}"#),
    ]

    @Test(arguments: goldens)
    func bridgeResultGolden(_ g: Golden) {
        #expect(String(decoding: bridgeResult.encoded(for: g.version), as: UTF8.self) == g.bridge)
    }

    @Test(arguments: goldens)
    func ipamResultGolden(_ g: Golden) {
        #expect(String(decoding: ipamResult.encoded(for: g.version), as: UTF8.self) == g.ipam)
        // The bridge result reduced to its IPAM form has the IPAM shape too.
        let reduced = bridgeResult.asIPAMResult().jsonValue(for: g.version)
        #expect(reduced["interfaces"] == nil)
        #expect(reduced["ips"]?.arrayValue?.allSatisfy { $0["interface"] == nil } == true)
    }

    @Test(arguments: CNIVersion.allCases)
    func decodingWhatWeEncodeGivesTheSameResultModuloVersionFields(_ v: CNIVersion) throws {
        let back = try CNIResult(decoding: bridgeResult.encoded(for: v))
        var expected = bridgeResult
        if !v.hasExtendedFields {
            for i in expected.interfaces.indices { expected.interfaces[i].mtu = nil }
            for i in expected.routes.indices {
                expected.routes[i].mtu = nil
                expected.routes[i].table = nil
                expected.routes[i].scope = nil
            }
        }
        #expect(back == expected)
    }

    @Test func extendedInterfaceFieldsOnlyIn110() {
        let r = CNIResult(interfaces: [.init(name: "vhu0", socketPath: "/run/vhu0.sock", pciID: "0000:00:1f.6")])
        let new = String(decoding: r.encoded(for: .v1_1_0), as: UTF8.self)
        #expect(new == #"{"cniVersion":"1.1.0","dns":{},"interfaces":[{"name":"vhu0","pciID":"0000:00:1f.6","socketPath":"/run/vhu0.sock"}]}"#)
        let old = String(decoding: r.encoded(for: .v1_0_0), as: UTF8.self)
        #expect(old == #"{"cniVersion":"1.0.0","dns":{},"interfaces":[{"name":"vhu0"}]}"#)
    }

    @Test func emptyResult() {
        #expect(String(decoding: CNIResult().encoded(for: .v1_1_0), as: UTF8.self) == #"{"cniVersion":"1.1.0","dns":{}}"#)
        #expect(String(decoding: CNIResult().encoded(for: .v0_3_0), as: UTF8.self) == #"{"cniVersion":"0.3.0","dns":{}}"#)
    }

    @Test func versionResult() {
        #expect(String(decoding: VersionResult(cniVersion: "1.0.0").encoded(), as: UTF8.self)
            == #"{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}"#)
    }
}
