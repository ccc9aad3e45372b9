#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a running watchdog publishes for `holdfast-watchdog status`
/// (default `/run/holdfast/watchdog.state`, on tmpfs: it describes this boot only).
public struct SupervisorState: Sendable, Hashable, Codable {
    public static let defaultPath = "/run/holdfast/watchdog.state"

    public var watchdogPID: Int32
    /// `starting`, `running`, `backoff`, `stopping`, `fenced`, `stopped`.
    public var phase: String
    public var agentPID: Int32?
    public var agent: [String]
    public var cgroup: String?
    public var oomSource: String
    public var oomKills: UInt64?
    public var restarts: Int
    public var updated: Date

    public init(watchdogPID: Int32, phase: String, agentPID: Int32?, agent: [String], cgroup: String?,
                oomSource: String, oomKills: UInt64?, restarts: Int, updated: Date) {
        self.watchdogPID = watchdogPID
        self.phase = phase
        self.agentPID = agentPID
        self.agent = agent
        self.cgroup = cgroup
        self.oomSource = oomSource
        self.oomKills = oomKills
        self.restarts = restarts
        self.updated = updated
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(self)) + [0x0a]
    }

    public static func decode(_ bytes: [UInt8]) throws -> SupervisorState {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(SupervisorState.self, from: Data(bytes))
    }
}
