import Addressing
import JSONCore

/// Typed reads of optional fields of the `ipam` object, straight from the
/// parsed `JSONValue`.
///
/// Why not `Decodable`: every ADD and DEL decodes this object, and the generic
/// decoding machinery cost about a million instructions per run, a quarter of
/// an IPAM ADD (docs/benchmarks.md). The rules are `decodeIfPresent`'s: a
/// missing key or `null` is absent; any other type, or a fractional number for
/// an integer field, is an error naming the field path.
struct IPAMFields {
    let object: [String: JSONValue]
    let path: String

    /// The `ipam` object itself; anything but an object is an error.
    init(_ value: JSONValue, path: String) throws(ConfigFieldError) {
        guard let object = value.objectValue else { throw Self.mismatch(path, "an object", value) }
        self.init(object: object, path: path)
    }

    private init(object: [String: JSONValue], path: String) {
        self.object = object
        self.path = path
    }

    static func mismatch(_ path: String, _ expected: String, _ value: JSONValue) -> ConfigFieldError {
        ConfigFieldError(field: "ipam", problem: "cannot decode: at \(path): expected \(expected), got \(value.typeName)")
    }

    private func present(_ key: String) -> JSONValue? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    func string(_ key: String) throws(ConfigFieldError) -> String? {
        guard let value = present(key) else { return nil }
        guard let s = value.stringValue else { throw Self.mismatch("\(path).\(key)", "a string", value) }
        return s
    }

    func int(_ key: String) throws(ConfigFieldError) -> Int? {
        guard let value = present(key) else { return nil }
        guard let n = value.intValue else { throw Self.mismatch("\(path).\(key)", "an integer", value) }
        return n
    }

    func double(_ key: String) throws(ConfigFieldError) -> Double? {
        guard let value = present(key) else { return nil }
        guard let n = value.doubleValue else { throw Self.mismatch("\(path).\(key)", "a number", value) }
        return n
    }

    func object(_ key: String) throws(ConfigFieldError) -> IPAMFields? {
        guard let value = present(key) else { return nil }
        return try IPAMFields(value, path: "\(path).\(key)")
    }

    /// The elements of an array field, each with its path (`key[i]`).
    func array(_ key: String) throws(ConfigFieldError) -> [(JSONValue, String)]? {
        guard let value = present(key) else { return nil }
        guard let a = value.arrayValue else { throw Self.mismatch("\(path).\(key)", "an array", value) }
        return a.enumerated().map { ($0.element, "\(path).\(key)[\($0.offset)]") }
    }
}
