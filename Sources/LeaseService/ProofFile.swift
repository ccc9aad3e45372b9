#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import LeaseStore

/// Where a network's `StoreStamp` is kept: one small file under `/run`, named
/// by the network and the store's path.
///
/// Why there: the proof must be lost together with the containers it vouches
/// for, and not together with the store. `/run` is a tmpfs, emptied by the
/// reboot that also ends every container, while deleting, emptying or restoring
/// the store leaves the file in place to contradict it. One file per network
/// and store, so networks sharing a bridge (or a data directory) never
/// overwrite each other's proof.
///
/// Written only inside the network's store lock, atomically (rename). Never
/// fsync'd: losing it only costs the next ADD a full scan. A proof that cannot
/// be written is logged and ignored for the same reason.
public struct ProofFile: Sendable {
    public static let defaultDirectory = "/run/holdfast/proof"

    public let path: String
    public let directory: String

    public init(directory: String = ProofFile.defaultDirectory, location: StoreLocation) {
        self.directory = directory
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the store's path
        for byte in location.databasePath.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        path = "\(directory)/\(location.network).\(String(hash, radix: 16))"
    }

    /// The stamp last written; nil when missing or unparsable.
    public func read() -> StoreStamp? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return StoreStamp(alias: String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init))
    }

    /// Replaces the proof with `stamp` (write to a temporary name, then rename).
    public func write(_ stamp: StoreStamp) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let temporary = "\(path).tmp\(getpid())"
            try Data((stamp.alias + "\n").utf8).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else {
                let code = errno
                unlink(temporary)
                throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
            }
        } catch {
            StderrLog.line("cannot write store proof \(path): \(error); the next ADD scans the kernel")
        }
    }

    /// Removes the proof (the next allocation then scans).
    public func remove() { unlink(path) }
}
