import Addressing
import Foundation
import IPAM
@testable import LeaseService
import Testing
import JSONCore

/// The hand-written encodings on the ADD path must match what `Codable` wrote
/// before, so stores and observation files written by older builds still read.
@Suite struct HotPathEncodingTests {
    @Test func poolRecordTextIsJSONEncodersJSON() throws {
        let config = try IPAMConfig(ipamJSON: Data(#"""
            {"ranges":[[{"subnet":"10.1.0.0/24"},{"subnet":"10.2.0.0/24","rangeStart":"10.2.0.10","rangeEnd":"10.2.0.20","gateway":"10.2.0.254"}],
                       [{"subnet":"fd00:1::/64"}]]}
            """#.utf8))
        // The same JSON as JSONEncoder's (whose key order varies from process to
        // process), in a fixed key order.
        let foundation = try JSONValue.parse(try JSONEncoder().encode(config.rangeSets))
        #expect(try JSONValue.parse(Data(PoolRecord.encode(config.rangeSets).utf8)) == foundation)
        #expect(PoolRecord.encode(config.rangeSets).hasPrefix(#"[[{"subnet":"10.1.0.0\/24","rangeStart":"10.1.0.1","#))
        #expect(try JSONDecoder().decode([RangeSet].self, from: Data(PoolRecord.encode(config.rangeSets).utf8)) == config.rangeSets)
    }

    @Test func observationsRoundTripAndReadCodableFiles() throws {
        var o = Observations()
        o.observeError(code: 11)
        o.observeError(code: 11)
        o.observeError(code: 101)
        o.observeLockWait(seconds: 0.0003)
        o.observeLockWait(seconds: 3)
        #expect(Observations.parse(Array(o.jsonValue.encoded())) == o)
        // A file written by the Codable encoder of earlier builds.
        #expect(Observations.parse(Array(try JSONEncoder().encode(o))) == o)
        #expect(Observations.parse(Array("not json".utf8)) == nil)
        #expect(Observations.parse(Array(#"{"errors":{"11":"x"},"lockWaitBuckets":[],"lockWaitSumSeconds":0,"lockWaitCount":0}"#.utf8)) == nil)
    }
}
