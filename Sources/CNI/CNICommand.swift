/// The operation a runtime asks for, from `CNI_COMMAND`.
public enum CNICommand: String, CaseIterable, Sendable, Hashable {
    case add = "ADD"
    case del = "DEL"
    case check = "CHECK"
    case version = "VERSION"
    case status = "STATUS"
    case gc = "GC"

    /// Whether the verb names one attachment (container ID + interface).
    public var isAttachmentVerb: Bool { self == .add || self == .del || self == .check }
}
