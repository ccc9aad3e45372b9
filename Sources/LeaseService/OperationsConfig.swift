#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import ConfigFields
import JSONCore

/// The operational knobs of the `ipam` section: flood protection and
/// structured logs. Decoded separately from the address config so that a
/// plugin run can still find its log file when the rest of the section is bad.
///
/// ```json
/// "ipam": { ..., "rateLimit": {"perSecond": 50, "burst": 100}, "maxWaiters": 32,
///           "logFile": "/var/log/holdfast/holdfast.log", "logMaxBytes": 10485760, "logKeep": 3 }
/// ```
public struct OperationsConfig: Sendable, Equatable {
    /// New allocations per second per network; nil (the default) is unlimited.
    public var rateLimit: RateLimit?
    /// How many plugin processes may wait for (or hold) one network's lock at
    /// once; a caller beyond it fails at once with CNI error 11 instead of
    /// queueing. 0 disables the cap.
    public var maxWaiters: Int
    /// Where each run appends its JSON decision lines; nil (the default) logs
    /// nothing. `HOLDFAST_LOG` in the plugin's environment sets it when the
    /// config does not.
    public var logFile: String?
    /// Size at which the log is rotated (`log` -> `log.1` -> ... `log.<logKeep>`).
    public var logMaxBytes: Int
    /// Rotated files kept besides the live one.
    public var logKeep: Int

    public static let defaultMaxWaiters = 64
    public static let defaultLogMaxBytes = 10 << 20
    public static let defaultLogKeep = 3
    /// Environment variable naming the log file when the config has no `logFile`.
    public static let logEnvironmentVariable = "HOLDFAST_LOG"

    public init(rateLimit: RateLimit? = nil, maxWaiters: Int = OperationsConfig.defaultMaxWaiters,
                logFile: String? = nil, logMaxBytes: Int = OperationsConfig.defaultLogMaxBytes,
                logKeep: Int = OperationsConfig.defaultLogKeep) {
        self.rateLimit = rateLimit
        self.maxWaiters = maxWaiters
        self.logFile = logFile
        self.logMaxBytes = logMaxBytes
        self.logKeep = logKeep
    }

    struct Raw {
        struct RawRate {
            var perSecond: Double?
            var burst: Int?
        }
        var rateLimit: RawRate?
        var maxWaiters: Int?
        var logFile: String?
        var logMaxBytes: Int?
        var logKeep: Int?

        init(json: JSONValue) throws(ConfigFieldError) {
            let f = try IPAMFields(json, path: "ipam")
            if let r = try f.object("rateLimit") {
                rateLimit = RawRate(perSecond: try r.double("perSecond"), burst: try r.int("burst"))
            }
            maxWaiters = try f.int("maxWaiters")
            logFile = try f.string("logFile")
            logMaxBytes = try f.int("logMaxBytes")
            logKeep = try f.int("logKeep")
        }
    }

    /// Decodes and validates the operational keys of an already parsed `ipam`
    /// object (`IPAMConfig` and the observed plugin have it from the network config).
    /// - Throws: `ConfigFieldError` naming the field (CNI error 7).
    public init(ipam json: JSONValue) throws(ConfigFieldError) {
        let raw = try Raw(json: json)
        self.init()
        if let r = raw.rateLimit {
            guard let perSecond = r.perSecond, perSecond > 0, perSecond <= 1_000_000 else {
                throw ConfigFieldError(field: "ipam.rateLimit.perSecond", problem: "must be in (0, 1000000], got \(IPAMConfig.quote(r.perSecond.map { "\($0)" }))")
            }
            let burst = r.burst ?? max(1, Int(perSecond.rounded(.up)))
            guard (1...1_000_000).contains(burst) else {
                throw ConfigFieldError(field: "ipam.rateLimit.burst", problem: "must be 1...1000000, got \(burst)")
            }
            rateLimit = RateLimit(perSecond: perSecond, burst: burst)
        }
        if let w = raw.maxWaiters {
            guard (0...4096).contains(w) else {
                throw ConfigFieldError(field: "ipam.maxWaiters", problem: "must be 0...4096 (0 = no cap), got \(w)")
            }
            maxWaiters = w
        }
        if let f = raw.logFile {
            guard f.hasPrefix("/"), !f.contains("\0"), !f.hasSuffix("/") else {
                throw ConfigFieldError(field: "ipam.logFile", problem: "must be an absolute file path, got \(IPAMConfig.quote(f))")
            }
            logFile = f
        }
        if let m = raw.logMaxBytes {
            guard m >= 4096 else { throw ConfigFieldError(field: "ipam.logMaxBytes", problem: "must be >= 4096, got \(m)") }
            logMaxBytes = m
        }
        if let k = raw.logKeep {
            guard (0...100).contains(k) else { throw ConfigFieldError(field: "ipam.logKeep", problem: "must be 0...100, got \(k)") }
            logKeep = k
        }
    }
}

/// A token bucket's shape: `burst` tokens, refilled at `perSecond`.
public struct RateLimit: Sendable, Equatable {
    public var perSecond: Double
    public var burst: Int
    public init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }
}
