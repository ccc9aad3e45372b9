#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing

/// The request configuration a plugin reads on stdin (spec Sections 1 and 3).
///
/// The protocol fields are typed and validated; everything else stays in
/// `raw` for plugin-specific decoding (`decode(_:)`), and the original bytes
/// stay in `bytes` so a delegated plugin receives exactly what we received
/// (spec Section 4).
public struct NetworkConfig: Sendable, Hashable {
    public var cniVersion: CNIVersion
    /// Network name; validated like a container ID, so it is safe as a
    /// directory name (the lease store keys on it).
    public var name: String
    /// The plugin binary's name.
    public var type: String
    /// The previous plugin's result (chained ADD, CHECK, DEL), in whichever
    /// version's shape it came.
    public var prevResult: CNIResult?
    /// `runtimeConfig` as received (capability arguments).
    public var runtimeConfig: JSONValue?
    /// `args` as received (e.g. `args.cni.ips`).
    public var args: JSONValue?
    /// `cni.dev/valid-attachments` (GC only): the attachments that must survive.
    public var validAttachments: [Attachment]?
    /// Every top-level key, including the typed ones above.
    public var raw: [String: JSONValue]
    /// The exact bytes received.
    public var bytes: Data

    /// Decodes and validates a request configuration.
    ///
    /// - Not JSON, or not a JSON object: code 6 with the parser's reason.
    /// - `cniVersion` missing (libcni reads that as 0.1.0) or unsupported: code 1.
    /// - `name` missing, empty or with characters outside `[a-zA-Z0-9_.-]`
    ///   (or not starting alphanumeric): code 7.
    /// - `type` missing or empty: code 7.
    /// - `prevResult` or `cni.dev/valid-attachments` malformed: code 6.
    public init(decoding bytes: Data) throws(CNIError) {
        try self.init(json: JSONValue.decode(bytes, what: "network config"), bytes: bytes)
    }

    /// Validates an already-parsed config; `bytes` must be the text `value` came from.
    public init(json value: JSONValue, bytes: Data) throws(CNIError) {
        guard let raw = value.objectValue else {
            throw .decodingFailure("error decoding network config", details: "expected a JSON object, got \(value.typeName)")
        }
        self.bytes = bytes
        self.raw = raw

        switch raw["cniVersion"] {
        case nil, .null?:
            throw .incompatibleVersion(
                "network config has no cniVersion (implies 0.1.0, which is not supported)",
                details: "supported versions: \(CNIVersion.supportedStrings.joined(separator: ", "))")
        case .string(let s)?:
            cniVersion = try CNIVersion.parse(s)
        case let v?:
            throw .decodingFailure("cniVersion: expected a string, got \(v.typeName)")
        }

        guard let name = raw["name"]?.stringValue, !name.isEmpty else {
            throw .invalidConfig("missing network name")
        }
        guard CNIEnvironment.isValidName(name), name.utf8.count <= 255 else {
            throw .invalidConfig("invalid characters found in network name", details: name)
        }
        self.name = name

        guard let type = raw["type"]?.stringValue, !type.isEmpty else {
            throw .invalidConfig("missing plugin type")
        }
        self.type = type

        if let v = raw["prevResult"], !v.isNull {
            prevResult = try CNIResult(json: v, path: "prevResult")
        }
        runtimeConfig = raw["runtimeConfig"].flatMap { $0.isNull ? nil : $0 }
        args = raw["args"].flatMap { $0.isNull ? nil : $0 }

        if let v = raw["cni.dev/valid-attachments"], !v.isNull {
            var list: [Attachment] = []
            for (i, item) in try CNIResult.array(v, "cni.dev/valid-attachments").enumerated() {
                let p = "cni.dev/valid-attachments[\(i)]"
                let o = try CNIResult.object(item, p)
                guard let id = try CNIResult.string(o["containerID"], "\(p).containerID"),
                      let ifname = try CNIResult.string(o["ifname"], "\(p).ifname") else {
                    throw .decodingFailure("\(p): containerID and ifname are required")
                }
                list.append(Attachment(containerID: id, ifname: ifname))
            }
            validAttachments = list
        }
    }

    /// Decodes plugin-specific fields from the whole config (unknown keys are
    /// ignored by `Decodable`). A failure is code 7 naming the field path,
    /// e.g. `invalid network config: ipam.subnet: ...`.
    public func decode<T: Decodable>(_ type: T.Type) throws(CNIError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch {
            throw .invalidConfig("invalid network config", details: JSONValue.describe(error))
        }
    }

    /// The `ipam` section's `type`, if any: decides whether IPAM is ours or delegated.
    public var ipamType: String? { raw["ipam"]?["type"]?.stringValue }

    /// `runtimeConfig.ips` (the `ips` capability): requested addresses in CIDR
    /// or plain form, as the runtime sent them. Code 7 when malformed.
    public func runtimeIPs() throws(CNIError) -> [String] {
        guard let v = runtimeConfig?["ips"], !v.isNull else { return [] }
        return try Self.stringList(v, "runtimeConfig.ips")
    }

    /// `runtimeConfig.mac` (the `mac` capability).
    public func runtimeMAC() throws(CNIError) -> String? {
        guard let v = runtimeConfig?["mac"], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw .invalidConfig("runtimeConfig.mac: expected a string, got \(v.typeName)") }
        return s
    }

    /// `args.cni.ips`: requested addresses passed through the config's `args`.
    public func argsIPs() throws(CNIError) -> [String] {
        guard let v = args?["cni"]?["ips"], !v.isNull else { return [] }
        return try Self.stringList(v, "args.cni.ips")
    }

    private static func stringList(_ v: JSONValue, _ p: String) throws(CNIError) -> [String] {
        guard let a = v.arrayValue else { throw .invalidConfig("\(p): expected an array, got \(v.typeName)") }
        var out: [String] = []
        for (i, item) in a.enumerated() {
            guard let s = item.stringValue else { throw .invalidConfig("\(p)[\(i)]: expected a string, got \(item.typeName)") }
            out.append(s)
        }
        return out
    }

    /// The bytes a delegated plugin receives: the original bytes when
    /// `prevResult` is unchanged, else the config re-encoded with `prevResult`
    /// replaced (or removed when nil), in `cniVersion`'s shape.
    ///
    /// Re-encoding keeps every key but normalises formatting (sorted keys,
    /// integral numbers printed without fraction).
    public func bytes(replacingPrevResult result: CNIResult?) -> Data {
        if result == prevResult { return bytes }
        var copy = raw
        copy["prevResult"] = result?.jsonValue(for: cniVersion)
        return JSONValue.object(copy).encoded()
    }
}
