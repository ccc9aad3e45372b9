import Foundation
import Testing
import Addressing

/// Addresses, networks and MACs travel as their text in JSON, and bad text is
/// refused naming what was expected.
@Suite struct TextCodableTests {
    private struct Holder: Codable, Equatable {
        var ip: IPAddress
        var net: IPNetwork
        var mac: MACAddress
    }

    @Test func roundTripsAsPlainStrings() throws {
        let json = #"{"ip":"fd00::1","mac":"02:42:ac:11:00:02","net":"10.1.2.3/24"}"#
        let holder = try JSONDecoder().decode(Holder.self, from: Data(json.utf8))
        #expect(holder.ip == IPAddress("fd00::1"))
        #expect(holder.net.prefixLength == 24 && holder.net.address == IPAddress("10.1.2.3"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(String(decoding: try encoder.encode(holder), as: UTF8.self) == json)
    }

    @Test(arguments: [
        (#"{"ip":"10.0.0.300","mac":"02:42:ac:11:00:02","net":"10.0.0.0/8"}"#, "invalid IP address \"10.0.0.300\""),
        (#"{"ip":"10.0.0.1","mac":"02:42:ac:11:00:02","net":"10.0.0.0/33"}"#, "invalid CIDR \"10.0.0.0/33\""),
        (#"{"ip":"10.0.0.1","mac":"02:42:ac","net":"10.0.0.0/8"}"#, "invalid MAC address \"02:42:ac\""),
    ])
    func badTextNamesWhatWasExpected(json: String, message: String) {
        do {
            _ = try JSONDecoder().decode(Holder.self, from: Data(json.utf8))
            Issue.record("accepted \(json)")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription == message)
        } catch {
            Issue.record("expected dataCorrupted, got \(error)")
        }
    }
}
