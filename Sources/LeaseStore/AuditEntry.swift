#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One line of the audit log: who did what to the store, and when.
///
/// Destructive operator commands (release, forced GC, restore) leave a trail
/// here, in the same transaction as their effect, so the log cannot disagree
/// with the data.
public struct AuditEntry: Sendable, Hashable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var action: String
    public var detail: String

    public init(id: Int64, at: Date, actor: String, action: String, detail: String) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.detail = detail
    }
}
