#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Structured log: one JSON object per line on stderr, keys in a fixed order
/// (`time`, `mono`, `level`, `event`, then the event's fields), so journald,
/// `jq` and the integration tests read the same lines.
///
/// `mono` is CLOCK_MONOTONIC seconds: the decision latency is measured on it.
public enum Log {
    public enum Level: String, Sendable { case info, warning, error }

    public static func info(_ event: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        emit(.info, event, fields)
    }

    public static func warning(_ event: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        emit(.warning, event, fields)
    }

    public static func error(_ event: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        emit(.error, event, fields)
    }

    public static func emit(_ level: Level, _ event: String, _ fields: KeyValuePairs<String, LogValue>) {
        print(line(level, event, fields, time: Date(), mono: Sys.monotonicSeconds()))
    }

    /// The text of one line, without the newline (separate for tests).
    public static func line(_ level: Level, _ event: String, _ fields: KeyValuePairs<String, LogValue>,
                            time: Date, mono: Double) -> String {
        var parts = [
            "\"time\":" + LogValue.quote(time.formatted(.iso8601)),
            "\"mono\":" + String(format6(mono)),
            "\"level\":" + LogValue.quote(level.rawValue),
            "\"event\":" + LogValue.quote(event),
        ]
        for (key, value) in fields {
            parts.append(LogValue.quote(key) + ":" + value.json)
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    private static func format6(_ value: Double) -> String {
        let micros = Int64((value * 1_000_000).rounded())
        let whole = micros / 1_000_000
        let frac = String(micros % 1_000_000)
        return "\(whole)." + String(repeating: "0", count: 6 - frac.count) + frac
    }

    private static func print(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        try? Sys.writeAll(STDERR_FILENO, bytes, what: "stderr")
    }
}
