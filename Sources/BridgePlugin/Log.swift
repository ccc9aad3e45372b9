import Glibc

/// Plugin diagnostics go to stderr: stdout carries only the result or error JSON.
enum Log {
    static func error(_ message: String) {
        let line = "holdfast: \(message)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
