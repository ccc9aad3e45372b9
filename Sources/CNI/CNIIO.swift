#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#else
#error("Holdfast's CNI target supports Linux (Glibc) only")
#endif
import SystemCalls

/// The dispatcher's stdin/stdout/stderr, injectable so every verb can be
/// tested without exec.
public struct CNIIO {
    /// Reads at most `maxCount` bytes; an empty array means end of input.
    public var read: (_ maxCount: Int) throws(CNIError) -> [UInt8]
    /// Writes all bytes; false when the write failed (e.g. a closed pipe).
    public var write: (_ bytes: [UInt8]) -> Bool
    /// Unstructured diagnostics (never protocol output).
    public var writeStderr: (_ text: String) -> Void
    /// True when stdin is a terminal: VERSION then does not wait for input.
    public var stdinIsTerminal: Bool

    public init(read: @escaping (_ maxCount: Int) throws(CNIError) -> [UInt8],
                write: @escaping (_ bytes: [UInt8]) -> Bool,
                writeStderr: @escaping (_ text: String) -> Void = { _ in },
                stdinIsTerminal: Bool = false) {
        self.read = read
        self.write = write
        self.writeStderr = writeStderr
        self.stdinIsTerminal = stdinIsTerminal
    }

    /// The process's file descriptors, with unbuffered `read(2)`/`write(2)`
    /// (so nothing is lost if the process exits right after).
    public static func fileDescriptors(stdin: Int32 = 0, stdout: Int32 = 1, stderr: Int32 = 2) -> CNIIO {
        CNIIO(
            read: { (maxCount: Int) throws(CNIError) -> [UInt8] in
                try FD.read(stdin, maxCount: maxCount, what: "stdin")
            },
            write: { bytes in FD.writeAll(stdout, bytes) },
            writeStderr: { text in _ = FD.writeAll(stderr, Array(text.utf8)) },
            stdinIsTerminal: isatty(stdin) == 1)
    }

    /// Reads until end of input, but never more than `limit + 1` bytes in
    /// total: a larger input is rejected (code 7) without being buffered.
    public func readAll(limit: Int) throws(CNIError) -> [UInt8] {
        var out: [UInt8] = []
        while out.count <= limit {
            let chunk = try read(min(64 * 1024, limit + 1 - out.count))
            if chunk.isEmpty { return out }
            out += chunk
        }
        throw .invalidConfig("configuration larger than \(limit) bytes")
    }
}

/// The dispatcher's reads and writes over `SystemCalls`, with errors as CNI
/// errors carrying the errno text.
enum FD {
    static func read(_ fd: Int32, maxCount: Int, what: String) throws(CNIError) -> [UInt8] {
        do { return try FileDescriptor(rawValue: fd).readSome(maxCount: maxCount) } catch {
            throw .ioFailure("error reading from \(what)", details: errnoText(error.errno.rawValue))
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        (try? FileDescriptor(rawValue: fd).writeAllBytes(bytes)) != nil
    }

    static func errnoText(_ code: Int32 = errno) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
