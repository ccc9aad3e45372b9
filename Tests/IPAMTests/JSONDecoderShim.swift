import Foundation

/// JSON round trips for tests (tests may use full Foundation).
enum JSONDecoderShim {
    static func decode<T: Decodable>(_: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}
