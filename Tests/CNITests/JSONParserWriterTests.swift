#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing
@testable import CNI
@testable import JSONCore

/// The hand-written parser and writer must agree with Foundation's
/// `JSONDecoder`/`JSONEncoder`, which they replaced on the hot path.
@Suite struct JSONParserWriterTests {
    static let documents: [String] = [
        #"{"cniVersion":"1.0.0","name":"net","type":"holdfast","ipam":{"type":"holdfast-ipam","ranges":[[{"subnet":"10.1.0.0/16"}]]}}"#,
        #"  [1, -2, 3.5, 1e3, -0.25e-2, 0, 1500, 12345678901, true, false, null, "x"]  "#,
        #"{"esc":"q\"b\\s\/n\nt\tr\rf\fb\bu\u0001\u001f\u00e9\ud83d\ude00","uni":"é😀","B":1,"a":2,"a10":3,"a2":4,"_":5,"Z":6}"#,
        #"{"nested":{"deep":[[[{"k":[]}]]],"empty":{}},"num":0.1,"big":1e21,"small":1e-7,"neg":-1.5}"#,
        #""just a string""#,
        "42",
    ]

    static func foundationValue(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static func foundationText(_ value: JSONValue) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    @Test(arguments: documents)
    func parsesLikeJSONDecoder(_ text: String) throws {
        #expect(try JSONParser.parse(Data(text.utf8)) == (try Self.foundationValue(text)))
    }

    @Test(arguments: documents)
    func writesLikeJSONEncoder(_ text: String) throws {
        let value = try Self.foundationValue(text)
        #expect(String(decoding: JSONWriter.data(value), as: UTF8.self) == (try Self.foundationText(value)))
    }

    @Test func writtenTextParsesBack() throws {
        for text in Self.documents {
            let value = try JSONParser.parse(Data(text.utf8))
            #expect(try JSONParser.parse(JSONWriter.data(value)) == value)
        }
    }

    @Test(arguments: [
        "", "   ", "{", "{\"a\" 1}", "{a:1}", "[1 2]", "01", "1.", ".5", "-", "1e", "+1",
        "tru", "nul", "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"",
        "\"tab\there\"", "{} {}", "[1] x", "1e999", "NaN",
    ])
    func rejectsWhatJSONDecoderRejects(_ text: String) throws {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Data(text.utf8)) }
        #expect(throws: (any Error).self) { try Self.foundationValue(text) }
    }

    /// FoundationEssentials' decoder tolerates trailing commas; JSON (and the
    /// reference plugins' Go decoder) does not, and neither does this parser.
    @Test(arguments: ["[1,]", "{\"a\":1,}"])
    func rejectsTrailingCommas(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Data(text.utf8)) }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Data([0x22, 0xFF, 0xFE, 0x22])) }
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Data(deep.utf8)) }
    }

    @Test func malformedConfigIsCodeSixNamingTheOffset() {
        #expect {
            _ = try JSONValue.decode(Data("{\"a\":}".utf8), what: "network config")
        } throws: { error in
            guard let e = error as? CNIError else { return false }
            return e.code == 6 && e.msg == "error decoding network config" && e.details.contains("byte 5")
        }
    }
}
