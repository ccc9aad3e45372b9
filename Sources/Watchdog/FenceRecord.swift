#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The body of the fence marker: why this host must not run the agent again.
/// Its presence is the fence; its content is evidence for the operator.
public struct FenceRecord: Sendable, Hashable, Codable {
    /// When the OOM kill was decided.
    public var time: Date
    /// The agent command line.
    public var agent: [String]
    /// The cgroup watched (`null` with the /proc/vmstat fallback).
    public var cgroup: String?
    /// The OOM-kill counter when the decision was made.
    public var oomCount: UInt64
    /// How the agent died, e.g. `signal 9 (SIGKILL)`.
    public var exit: String
    /// `/proc/sys/kernel/random/boot_id` at decision time: a fence from an
    /// earlier boot tells the operator the host was rebooted, not replaced.
    public var bootID: String
    public var hostname: String
    /// The watchdog's pid, so `status` can tell whether it is still acting.
    public var watchdogPID: Int32

    public init(time: Date, agent: [String], cgroup: String?, oomCount: UInt64, exit: String,
                bootID: String, hostname: String, watchdogPID: Int32) {
        self.time = time
        self.agent = agent
        self.cgroup = cgroup
        self.oomCount = oomCount
        self.exit = exit
        self.bootID = bootID
        self.hostname = hostname
        self.watchdogPID = watchdogPID
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(self)) + [0x0a]
    }

    public static func decode(_ bytes: [UInt8]) throws -> FenceRecord {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(FenceRecord.self, from: Data(bytes))
    }
}
