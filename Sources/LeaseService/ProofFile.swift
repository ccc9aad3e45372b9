import Glibc
import LeaseStore
import SystemCalls
import SystemPackage

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
/// Written only inside the network's store lock, in place. Never fsync'd:
/// losing it only costs the next ADD a full scan. A proof that cannot be
/// written is logged and ignored for the same reason.
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

    /// The stamp last written; nil when missing or unparsable. Plain syscalls:
    /// this runs on every ADD and DEL.
    public func read() -> StoreStamp? {
        guard let fd = try? FileDescriptor.open(path, flags: O_RDONLY | O_CLOEXEC) else { return nil }
        defer { fd.closeQuietly() }
        let limit = 512
        guard let record = try? fd.readSome(maxCount: limit), !record.isEmpty, record.count < limit else { return nil }
        // The first line, found on the bytes (a Character split of the padded
        // record cost more than the rest of the read).
        let end = record.firstIndex(of: UInt8(ascii: "\n")) ?? record.count
        return StoreStamp(alias: String(decoding: record[..<end], as: UTF8.self))
    }

    /// Overwrites the proof with `stamp`, in place: one fixed-size record, so
    /// no inode is created per write (on a disk-backed `/run` that is the
    /// dominant cost). Safe without a rename because the proof is read and
    /// written only under the network's store lock; a write torn by a crash
    /// does not parse, which makes the next ADD scan.
    public func write(_ stamp: StoreStamp) {
        let fd: FileDescriptor
        do { fd = try openCreating() } catch {
            StderrLog.line("cannot write store proof \(path): \(error); the next ADD scans the kernel")
            return
        }
        defer { fd.closeQuietly() }
        var record = Array((stamp.alias + "\n").utf8)
        if record.count < Self.recordSize { record += [UInt8](repeating: UInt8(ascii: " "), count: Self.recordSize - record.count) }
        let written = record.withUnsafeBytes { pwrite(fd.rawValue, $0.baseAddress, $0.count, 0) }
        if written != record.count || (record.count > Self.recordSize && ftruncate(fd.rawValue, off_t(record.count)) != 0) {
            StderrLog.line("cannot write store proof \(path): errno \(errno); the next ADD scans the kernel")
            unlink(path)
        }
    }

    /// Opens the proof for writing; the private directory is made only when
    /// missing (the first write after boot), so a steady-state write is one open.
    private func openCreating() throws(SystemCallError) -> FileDescriptor {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC
        do { return try FileDescriptor.open(path, flags: flags, mode: 0o600) } catch where error.errno == .noSuchFileOrDirectory {
            try Directory.create(directory, mode: 0o700)
            return try FileDescriptor.open(path, flags: flags, mode: 0o600)
        }
    }

    /// Every proof is padded to this size, so an overwrite never leaves a tail.
    static let recordSize = 160

    /// Removes the proof (the next allocation then scans).
    public func remove() { unlink(path) }
}
