import Glibc

/// The durable fence marker at a path (default `/var/lib/holdfast/watchdog.fence`).
///
/// Why a file on persistent storage: the fence must outlive the watchdog (a
/// restarted or second watchdog refuses to start the agent) and survive a
/// power cut the moment it is written, because the termination action that
/// follows may cut power. Written as temp + fsync + rename + fsync(dir).
public struct FenceFile: Sendable {
    public static let defaultPath = "/var/lib/holdfast/watchdog.fence"

    public var path: String

    public init(path: String) { self.path = path }

    /// What is at the path.
    public enum State: Sendable {
        case absent
        case fenced(FenceRecord)
        /// Something is there but it is not a valid record: still fenced (a torn
        /// or hand-edited marker must not unfence a host), with the reason.
        case unreadable(String)

        public var isFenced: Bool {
            if case .absent = self { return false }
            return true
        }
    }

    public func read() -> State {
        guard Sys.exists(path) else { return .absent }
        do {
            let text = try Sys.readFile(path)
            return .fenced(try FenceRecord.decode(Array(text.utf8)))
        } catch {
            return .unreadable("\(error)")
        }
    }

    public func write(_ record: FenceRecord) throws {
        try Sys.writeFileDurably(path, record.encoded(), mode: 0o644)
    }

    /// Removes the fence durably. Returns false when there was none.
    @discardableResult
    public func remove() throws(SystemError) -> Bool {
        try Sys.removeFileDurably(path)
    }
}
