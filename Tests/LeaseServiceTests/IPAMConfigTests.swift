import Addressing
import Foundation
import IPAM
@testable import LeaseService
import Testing

@Suite struct IPAMConfigTests {
    func decode(_ json: String) throws(ConfigFieldError) -> IPAMConfig {
        try IPAMConfig(ipamJSON: Data(json.utf8))
    }

    @Test func hostLocalRangesAndDefaults() throws {
        let c = try decode(#"{"type":"holdfast-ipam","ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"fd00::/64"}]],"routes":[{"dst":"0.0.0.0/0"}]}"#)
        #expect(c.rangeSets.count == 2)
        #expect(c.rangeSets[0].ranges[0].gateway == IPAddress("10.1.0.1"))
        #expect(c.routes == [IPAMRoute(destination: IPNetwork("0.0.0.0/0")!, gateway: nil)])
        #expect(c.dataDir == IPAMConfig.defaultDataDir)
        #expect(c.lockTimeout == IPAMConfig.defaultLockTimeout)
    }

    /// Wrong JSON types are errors naming the path, as Decodable's were; null is absent.
    @Test(arguments: [
        (#"{"ranges":[[{"subnet":5}]]}"#, "ipam.ranges[0][0].subnet"),
        (#"{"ranges":{"subnet":"10.0.0.0/24"}}"#, "ipam.ranges"),
        (#"{"ranges":[{"subnet":"10.0.0.0/24"}]}"#, "ipam.ranges[0]"),
        (#"{"ranges":[[{"subnet":"10.0.0.0/24"}]],"lockTimeoutMs":1.5}"#, "ipam.lockTimeoutMs"),
        (#"{"ranges":[[{"subnet":"10.0.0.0/24"}]],"routes":[{"dst":true}]}"#, "ipam.routes[0].dst"),
        (#"{"ranges":[[{"subnet":"10.0.0.0/24"}]],"rateLimit":{"perSecond":"fast"}}"#, "ipam.rateLimit.perSecond"),
        (#"[1]"#, "ipam"),
        (#"{"ranges":[[{"subnet":"10.0.0.0/24"}]],"dataDir":"/x",}"#, "ipam"),
    ])
    func wrongTypesNameTheirPath(json: String, path: String) {
        #expect {
            _ = try decode(json)
        } throws: { error in
            guard let e = error as? ConfigFieldError else { return false }
            return e.field == "ipam" && "\(e)".contains("cannot decode") && "\(e)".contains(path)
        }
    }

    @Test func nullFieldsAreAbsent() throws {
        let c = try decode(#"{"ranges":[[{"subnet":"10.1.0.0/24","gateway":null}]],"dataDir":null,"lockTimeoutMs":null}"#)
        #expect(c.dataDir == IPAMConfig.defaultDataDir)
        #expect(c.lockTimeout == IPAMConfig.defaultLockTimeout)
        #expect(c.rangeSets[0].ranges[0].gateway == IPAddress("10.1.0.1"))
    }

    @Test func legacySubnetComesFirst() throws {
        let c = try decode(#"{"subnet":"10.2.0.0/24","rangeStart":"10.2.0.10","rangeEnd":"10.2.0.20","gateway":"10.2.0.254","ranges":[[{"subnet":"10.3.0.0/24"}]]}"#)
        #expect(c.rangeSets.count == 2)
        #expect(c.rangeSets[0].ranges[0].rangeStart == IPAddress("10.2.0.10"))
        #expect(c.rangeSets[0].ranges[0].gateway == IPAddress("10.2.0.254"))
    }

    struct Bad: Sendable, CustomStringConvertible {
        var json: String
        var field: String
        var description: String { field }
    }

    @Test(arguments: [
        Bad(json: #"{"ranges":[]}"#, field: "ipam.ranges"),
        Bad(json: #"{"ranges":[[{"subnet":"10.0.0.0/33"}]]}"#, field: "ipam.ranges[0][0].subnet"),
        Bad(json: #"{"ranges":[[{"subnet":"10.0.0.5/24"}]]}"#, field: "ipam.ranges[0][0].subnet"),
        Bad(json: #"{"ranges":[[{"subnet":"10.0.0.0/24","gateway":"nope"}]]}"#, field: "ipam.ranges[0][0].gateway"),
        Bad(json: #"{"ranges":[[{"subnet":"10.0.0.0/24"}],[{"subnet":"10.0.0.128/25"}]]}"#, field: "ipam.ranges[1]"),
        Bad(json: #"{"ranges":[[{"subnet":"10.0.0.0/24"}]],"dataDir":"rel"}"#, field: "ipam.dataDir"),
        Bad(json: #"{"ranges":[[{"subnet":"10.0.0.0/24"}]],"routes":[{"dst":"x"}]}"#, field: "ipam.routes[0].dst"),
        Bad(json: #"{"ranges":[[{"subnet":"10.0.0.0/24"}]],"lockTimeoutMs":0}"#, field: "ipam.lockTimeoutMs"),
        Bad(json: #"{"ranges":"x"}"#, field: "ipam"),
        // Cluster mode's error passes up as it is, naming its field.
        Bad(json: #"{"cluster":{}}"#, field: "ipam.cluster.etcd"),
    ])
    func badConfigNamesTheField(_ bad: Bad) {
        do {
            _ = try decode(bad.json)
            Issue.record("accepted \(bad.json)")
        } catch {
            #expect(error.field == bad.field, "\(error)")
        }
    }
}
