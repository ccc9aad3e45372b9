import Glibc

/// Diagnostics of the IPAM layer: stderr only, since stdout carries nothing
/// but the plugin's result or error JSON.
enum StderrLog {
    static func line(_ message: String) {
        let text = "holdfast: \(message)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}
