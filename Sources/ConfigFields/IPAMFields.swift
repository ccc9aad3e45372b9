import Addressing
import JSONCore

/// Typed reads of optional fields of the `ipam` object (and the objects in
/// it, such as `cluster`), straight from the parsed `JSONValue`.
///
/// Why not `Decodable`: every ADD and DEL decodes this object, and the generic
/// decoding machinery cost about a million instructions per run, a quarter of
/// an IPAM ADD; cluster mode's settings through `JSONDecoder` were 0.7 million
/// more (docs/benchmarks.md). The rules are `decodeIfPresent`'s: a missing key
/// or `null` is absent; any other type, or a fractional number for an integer
/// field, is an error naming the field path.
public struct IPAMFields {
    public let object: [String: JSONValue]
    public let path: String

    /// The `ipam` object itself; anything but an object is an error.
    public init(_ value: JSONValue, path: String) throws(ConfigFieldError) {
        guard let object = value.objectValue else { throw Self.mismatch(path, "an object", value) }
        self.init(object: object, path: path)
    }

    private init(object: [String: JSONValue], path: String) {
        self.object = object
        self.path = path
    }

    public static func mismatch(_ path: String, _ expected: String, _ value: JSONValue) -> ConfigFieldError {
        ConfigFieldError(field: "ipam", problem: "cannot decode: at \(path): expected \(expected), got \(value.typeName)")
    }

    /// The value at `key` unless it is missing or `null`.
    public func present(_ key: String) -> JSONValue? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    /// The one typed read: absent (missing or `null`) is nil, a value `cast`
    /// rejects is a mismatch naming `path.key` and what was `expected`.
    private func read<T>(_ key: String, expected: String, _ cast: (JSONValue) -> T?) throws(ConfigFieldError) -> T? {
        guard let value = present(key) else { return nil }
        guard let typed = cast(value) else { throw Self.mismatch("\(path).\(key)", expected, value) }
        return typed
    }

    public func string(_ key: String) throws(ConfigFieldError) -> String? { try read(key, expected: "a string") { $0.stringValue } }

    /// A number with no fractional part (`Int(exactly:)`): `1.5` is a mismatch.
    public func int(_ key: String) throws(ConfigFieldError) -> Int? { try read(key, expected: "an integer") { $0.intValue } }

    public func double(_ key: String) throws(ConfigFieldError) -> Double? { try read(key, expected: "a number") { $0.doubleValue } }

    public func object(_ key: String) throws(ConfigFieldError) -> IPAMFields? {
        guard let value = present(key) else { return nil }
        return try IPAMFields(value, path: "\(path).\(key)")
    }

    /// An array field whose elements must all be strings.
    public func strings(_ key: String) throws(ConfigFieldError) -> [String]? {
        guard let items = try array(key) else { return nil }
        var result: [String] = []
        for (item, itemPath) in items {
            guard let text = item.stringValue else { throw Self.mismatch(itemPath, "a string", item) }
            result.append(text)
        }
        return result
    }

    /// The elements of an array field, each with its path (`key[i]`).
    public func array(_ key: String) throws(ConfigFieldError) -> [(JSONValue, String)]? {
        try read(key, expected: "an array") { $0.arrayValue }?.enumerated().map { ($0.element, "\(path).\(key)[\($0.offset)]") }
    }
}
