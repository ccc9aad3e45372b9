#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing
@testable import CNI

@Suite struct CNIVersionTests {
    @Test func parsesSupportedVersions() throws {
        #expect(try CNIVersion.parse("0.3.0") == .v0_3_0)
        #expect(try CNIVersion.parse("1.1.0") == .v1_1_0)
        #expect(CNIVersion.supportedStrings == ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])
        #expect(CNIVersion.v0_4_0 < .v1_0_0 && CNIVersion.v0_3_1 < .v0_4_0)
    }

    @Test(arguments: ["0.1.0", "0.2.0", "1.2.0", "2.0.0", "", "1.0", "v1.0.0"])
    func unknownVersionIsCode1NamingItAndTheList(_ text: String) {
        do {
            _ = try CNIVersion.parse(text)
            Issue.record("expected code 1")
        } catch {
            #expect(error.code == 1)
            #expect(error.msg.contains("\"\(text)\""))
            #expect(error.details.contains("0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"))
        }
    }

    @Test func verbGatesFollowTheSpec() {
        #expect(!CNIVersion.v0_3_1.supportsCheck && CNIVersion.v0_4_0.supportsCheck)
        #expect(!CNIVersion.v1_0_0.supportsStatusAndGC && CNIVersion.v1_1_0.supportsStatusAndGC)
    }
}

@Suite struct CNIErrorTests {
    @Test func wellKnownCodes() {
        let pairs: [(CNIError, Int)] = [
            (.incompatibleVersion(""), 1), (.unsupportedField(""), 2), (.unknownContainer(""), 3),
            (.invalidEnvironment(""), 4), (.ioFailure(""), 5), (.decodingFailure(""), 6), (.invalidConfig(""), 7),
            (.tryAgainLater(""), 11), (.notAvailable(""), 50), (.limitedConnectivity(""), 51), (.internal(""), 999),
        ]
        for (e, code) in pairs { #expect(e.code == code) }
        #expect(CNIError(code: 123, msg: "x").code == 123)
    }

    @Test func errorJSON() {
        let e = CNIError.invalidConfig("Invalid Configuration", details: "Network 192.168.0.0/31 too small to allocate from.")
        let text = String(decoding: e.encoded(cniVersion: "1.1.0"), as: UTF8.self)
        #expect(text == #"{"cniVersion":"1.1.0","code":7,"details":"Network 192.168.0.0/31 too small to allocate from.","msg":"Invalid Configuration"}"#)
        let plain = String(decoding: CNIError.tryAgainLater("lock busy").encoded(), as: UTF8.self)
        #expect(plain == #"{"cniVersion":"1.1.0","code":11,"details":"","msg":"lock busy"}"#)
    }

    @Test func errorJSONEscapesText() throws {
        let e = CNIError(code: 100, msg: "quote \" and\nnewline", details: "back\\slash")
        let back = try JSONValue.decode(e.encoded())
        #expect(back["msg"]?.stringValue == "quote \" and\nnewline")
        #expect(back["details"]?.stringValue == "back\\slash")
        #expect(back["code"]?.intValue == 100)
    }

    struct Boom: Error, CustomStringConvertible { var description: String { "boom happened" } }

    @Test func wrappingKeepsCNIErrorsAndMapsOthersTo999() {
        let e = CNIError.tryAgainLater("later")
        #expect(CNIError(wrapping: e) == e)
        let w = CNIError(wrapping: Boom())
        #expect(w.code == 999)
        #expect(w.msg == "boom happened")
    }
}

@Suite struct JSONValueTests {
    @Test func roundTripsAndAccessors() throws {
        let text = #"{"a":[1,2.5,"x",true,null],"b":{"c":"d"},"n":-3}"#
        let v = try JSONValue.decode(Data(text.utf8))
        #expect(v["a"]?[0]?.intValue == 1)
        #expect(v["a"]?[1]?.doubleValue == 2.5)
        #expect(v["a"]?[1]?.intValue == nil)
        #expect(v["a"]?[2]?.stringValue == "x")
        #expect(v["a"]?[3]?.boolValue == true)
        #expect(v["a"]?[4]?.isNull == true)
        #expect(v["a"]?[9] == nil)
        #expect(v["b"]?["c"] == "d")
        #expect(v["n"]?.intValue == -3)
        #expect(v["missing"] == nil)
        #expect(String(decoding: v.encoded(), as: UTF8.self) == text)
    }

    @Test func malformedIsCode6WithReason() {
        #expect(throws: CNIError.self) { try JSONValue.decode(Data("{\"a\":".utf8)) }
        do { _ = try JSONValue.decode(Data("{".utf8)) } catch {
            #expect(error.code == 6)
            #expect(!error.details.isEmpty)
        }
    }
}
