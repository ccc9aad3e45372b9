import Foundation
import Testing
import Addressing
import JSONCore
@testable import Cluster

@Suite struct ClusterConfigTests {
    static let good = #"""
    {"type": "holdfast-ipam", "cluster": {
        "etcd": {"endpoints": ["https://192.0.2.10:2379", "https://192.0.2.11:2379/"], "prefix": "/hf/",
                 "caFile": "/etc/hf/ca.pem", "certFile": "/etc/hf/c.pem", "keyFile": "/etc/hf/k.pem", "timeoutMs": 1500},
        "pools": [{"cidr": "10.200.0.0/16", "blockPrefix": 26}, {"cidr": "fd00:200::/56", "blockPrefix": 120}],
        "nodeName": "node-a", "nodeAddress": "192.0.2.21"}}
    """#

    @Test func parsesEveryField() throws {
        let c = try #require(try ClusterConfig.parse(ipamJSON: Data(Self.good.utf8)))
        #expect(c.etcd.endpoints.count == 2)
        #expect(c.etcd.timeout == .milliseconds(1500))
        #expect(c.etcd.certFile == "/etc/hf/c.pem")
        #expect(c.prefix == "/hf")
        #expect(c.pools.map(\.blockCount) == [1024, 1 << 24])
        #expect(c.nodeName == "node-a")
        #expect(c.nodeAddress == IPAddress("192.0.2.21"))
    }

    @Test func theParsedObjectAndItsBytesGiveTheSameConfig() throws {
        let json = try JSONValue.parse(Data(Self.good.utf8))
        #expect(try ClusterConfig.parse(ipam: json) == ClusterConfig.parse(ipamJSON: Data(Self.good.utf8)))
    }

    /// A value of the wrong JSON type is reported like every `ipam` field:
    /// under `ipam`, with the path of the value in the message.
    @Test(arguments: [
        (#"{"cluster": {"etcd": {"endpoints": ["http://a:1"], "timeoutMs": "5"}, \#(pool)}}"#, "ipam.cluster.etcd.timeoutMs"),
        (#"{"cluster": {"etcd": {"endpoints": ["http://a:1"], "timeoutMs": 1.5}, \#(pool)}}"#, "ipam.cluster.etcd.timeoutMs"),
        (#"{"cluster": {"etcd": {"endpoints": [7]}, \#(pool)}}"#, "ipam.cluster.etcd.endpoints[0]"),
        (#"{"cluster": {"etcd": {"endpoints": "http://a:1"}, \#(pool)}}"#, "ipam.cluster.etcd.endpoints"),
        (#"{"cluster": {\#(etcd), "pools": {"cidr": "10.9.0.0/16"}}}"#, "ipam.cluster.pools"),
        (#"{"cluster": {\#(etcd), "pools": ["10.9.0.0/16"]}}"#, "ipam.cluster.pools[0]"),
        (#"{"cluster": {\#(etcd), \#(pool), "nodeName": 3}}"#, "ipam.cluster.nodeName"),
        (#"{"cluster": "etcd"}"#, "ipam.cluster"),
    ])
    func wrongTypesNameTheirPath(_ json: String, _ path: String) {
        #expect {
            _ = try ClusterConfig.parse(ipamJSON: Data(json.utf8), hostName: { "h" })
        } throws: { error in
            guard let e = error as? ConfigFieldError else { return false }
            return e.field == "ipam" && "\(e)".contains("at \(path):")
        }
    }

    @Test func nullMeansAbsent() throws {
        let json = #"{"ranges": null, "cluster": {"etcd": {"endpoints": ["http://a:1"], "prefix": null}, \#(Self.pool), "nodeAddress": null}}"#
        let c = try #require(try ClusterConfig.parse(ipamJSON: Data(json.utf8), hostName: { "h" }))
        #expect(c.prefix == ClusterConfig.defaultPrefix)
        #expect(c.nodeAddress == nil)
        #expect(try ClusterConfig.parse(ipamJSON: Data(#"{"cluster": null, "subnet": "10.0.0.0/24"}"#.utf8)) == nil)
    }

    @Test func absentClusterIsANodeLocalNetwork() throws {
        #expect(try ClusterConfig.parse(ipamJSON: Data(#"{"ranges": [[{"subnet": "10.0.0.0/24"}]]}"#.utf8)) == nil)
    }

    @Test func nodeNameDefaultsToTheHostName() throws {
        let json = #"{"cluster": {"etcd": {"endpoints": ["http://127.0.0.1:2379"]}, "pools": [{"cidr": "10.9.0.0/16", "blockPrefix": 24}]}}"#
        let c = try #require(try ClusterConfig.parse(ipamJSON: Data(json.utf8), hostName: { "host-x" }))
        #expect(c.nodeName == "host-x")
        #expect(c.prefix == ClusterConfig.defaultPrefix)
        #expect(c.etcd.timeout == .milliseconds(2000))
    }

    struct Bad: Sendable, CustomStringConvertible {
        var json: String
        var field: String
        var description: String { field }
    }

    static let pool = #""pools": [{"cidr": "10.9.0.0/16", "blockPrefix": 24}]"#
    static let etcd = #""etcd": {"endpoints": ["http://127.0.0.1:2379"]}"#

    @Test(arguments: [
        Bad(json: #"{"ranges": [[{"subnet": "10.0.0.0/24"}]], "cluster": {\#(etcd), \#(pool)}}"#, field: "ipam.cluster"),
        Bad(json: #"{"subnet": "10.0.0.0/24", "cluster": {\#(etcd), \#(pool)}}"#, field: "ipam.cluster"),
        Bad(json: #"{"cluster": {\#(pool)}}"#, field: "ipam.cluster.etcd"),
        Bad(json: #"{"cluster": {"etcd": {"endpoints": []}, \#(pool)}}"#, field: "ipam.cluster.etcd.endpoints"),
        Bad(json: #"{"cluster": {"etcd": {"endpoints": ["127.0.0.1:2379"]}, \#(pool)}}"#, field: "ipam.cluster.etcd.endpoints[0]"),
        Bad(json: #"{"cluster": {"etcd": {"endpoints": ["http://a:1/v3"]}, \#(pool)}}"#, field: "ipam.cluster.etcd.endpoints[0]"),
        Bad(json: #"{"cluster": {"etcd": {"endpoints": ["https://a:1"], "certFile": "/c"}, \#(pool)}}"#, field: "ipam.cluster.etcd"),
        Bad(json: #"{"cluster": {"etcd": {"endpoints": ["https://a:1"], "caFile": "ca.pem"}, \#(pool)}}"#, field: "ipam.cluster.etcd.caFile"),
        Bad(json: #"{"cluster": {"etcd": {"endpoints": ["http://a:1"], "caFile": "/ca.pem"}, \#(pool)}}"#, field: "ipam.cluster.etcd.endpoints"),
        Bad(json: #"{"cluster": {"etcd": {"endpoints": ["http://a:1"], "timeoutMs": 0}, \#(pool)}}"#, field: "ipam.cluster.etcd.timeoutMs"),
        Bad(json: #"{"cluster": {"etcd": {"endpoints": ["http://a:1"], "prefix": "holdfast"}, \#(pool)}}"#, field: "ipam.cluster.etcd.prefix"),
        Bad(json: #"{"cluster": {\#(etcd)}}"#, field: "ipam.cluster.pools"),
        Bad(json: #"{"cluster": {\#(etcd), "pools": [{"cidr": "10.9.0.1/16", "blockPrefix": 24}]}}"#, field: "ipam.cluster.pools[0].cidr"),
        Bad(json: #"{"cluster": {\#(etcd), "pools": [{"cidr": "10.9.0.0/16", "blockPrefix": 8}]}}"#, field: "ipam.cluster.pools[0].blockPrefix"),
        Bad(json: #"{"cluster": {\#(etcd), "pools": [{"cidr": "10.9.0.0/16", "blockPrefix": 31}]}}"#, field: "ipam.cluster.pools[0].blockPrefix"),
        Bad(json: #"{"cluster": {\#(etcd), "pools": [{"cidr": "fd00::/64", "blockPrefix": 127}]}}"#, field: "ipam.cluster.pools[0].blockPrefix"),
        Bad(json: #"{"cluster": {\#(etcd), "pools": [{"cidr": "10.9.0.0/16"}]}}"#, field: "ipam.cluster.pools[0].blockPrefix"),
        Bad(json: #"{"cluster": {\#(etcd), "pools": [{"cidr": "10.9.0.0/16", "blockPrefix": 24}, {"cidr": "10.10.0.0/16", "blockPrefix": 24}]}}"#,
            field: "ipam.cluster.pools[1]"),
        Bad(json: #"{"cluster": {\#(etcd), \#(pool), "nodeName": "a/b"}}"#, field: "ipam.cluster.nodeName"),
        Bad(json: #"{"cluster": {\#(etcd), \#(pool), "nodeAddress": "192.0.2"}}"#, field: "ipam.cluster.nodeAddress"),
    ])
    func rejectsWithTheFieldNamed(_ bad: Bad) {
        #expect {
            _ = try ClusterConfig.parse(ipamJSON: Data(bad.json.utf8), hostName: { "h" })
        } throws: { error in
            (error as? ConfigFieldError)?.field == bad.field
        }
    }
}

@Suite struct ClusterPoolTests {
    @Test func blocksTileThePoolInOrder() throws {
        let p = try ClusterPool(cidr: IPNetwork("10.200.0.0/24")!, blockPrefix: 26)
        #expect(p.blockCount == 4)
        #expect(p.blockSize == 64)
        #expect((0..<4).compactMap { p.block($0)?.description } == ["10.200.0.0/26", "10.200.0.64/26", "10.200.0.128/26", "10.200.0.192/26"])
        #expect(p.block(4) == nil)
        #expect(p.blockIndex(of: IPAddress("10.200.0.130")!) == 2)
        #expect(p.blockIndex(of: IPAddress("10.201.0.1")!) == nil)
        #expect(p.blockIndex(ofBlock: IPNetwork("10.200.0.64/26")!) == 1)
        #expect(p.blockIndex(ofBlock: IPNetwork("10.200.0.64/27")!) == nil)
    }

    @Test func ipv6Blocks() throws {
        let p = try ClusterPool(cidr: IPNetwork("fd00:200::/56")!, blockPrefix: 120)
        #expect(p.blockCount == 1 << 24, "only the first 2^24 of 2^64 blocks are used")
        #expect(p.block(1)?.description == "fd00:200::100/120")
        #expect(p.block((1 << 24) - 1)?.description == "fd00:200::ffff:ff00/120")
        #expect(p.blockIndex(of: IPAddress("fd00:200::1:0:0")!) == nil)
        let small = try ClusterPool(cidr: IPNetwork("fd00:300::/112")!, blockPrefix: 120)
        #expect(small.blockCount == 256)
        #expect(small.block(255)?.description == "fd00:300::ff00/120")
    }

    @Test func firstFreeWrapsAndReportsFull() throws {
        let p = try ClusterPool(cidr: IPNetwork("10.0.0.0/24")!, blockPrefix: 26)
        #expect(p.firstFree(excluding: [], from: 2) == 2)
        #expect(p.firstFree(excluding: [2, 3], from: 2) == 0)
        #expect(p.firstFree(excluding: [0, 1, 2, 3]) == nil)
    }

    @Test func keysRoundTripBlockNames() throws {
        let k = ClusterKeys(prefix: "/hf", network: "net1")
        for text in ["10.200.0.64/26", "fd00:200::100/120"] {
            let cidr = IPNetwork(text)!
            #expect(k.block(cidr).hasPrefix("/hf/v1/net1/blocks/"))
            #expect(k.blockCIDR(fromKey: k.block(cidr)) == cidr)
        }
        #expect(k.blockCIDR(fromKey: "/hf/v1/net1/nodes/a") == nil)
    }
}
