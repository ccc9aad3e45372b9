/// A value whose JSON form is its text ("10.0.0.1", "10.0.0.0/24",
/// "02:42:ac:11:00:02"), as CNI results, network configs and `ipamctl --json`
/// spell addresses. One Codable implementation for all of them, so each rejects
/// bad text the same way and names what it expected.
public protocol TextCodable: Codable, CustomStringConvertible {
    /// What the text must be, for the decoding error ("IP address", "CIDR").
    static var textKind: String { get }
    /// Parses the text form; nil when the text is not one.
    init?(text: String)
}

extension TextCodable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(text: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "invalid \(Self.textKind) \"\(text)\"")
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
