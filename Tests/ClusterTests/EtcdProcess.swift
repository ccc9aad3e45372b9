import Foundation
import Etcd

/// A throwaway one-member etcd on loopback with its data in a temp dir,
/// stopped by PID when released. Tests that need it are skipped (visibly)
/// when Debian's etcd-server is not installed.
///
/// The ports come from the kernel (bind to port 0, then release), and a start
/// that loses its port to another socket in between, or is slow on a loaded
/// machine, is retried on fresh ports: a busy CI host once failed a test here
/// because a random port was already taken. etcd's log is kept in the data
/// directory and quoted when every attempt fails.
final class EtcdProcess {
    static let binary = "/usr/bin/etcd"
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    private(set) var process = Process()
    let dataDir: URL
    private(set) var endpoint = ""

    init() throws {
        dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("hf-etcd-\(UUID().uuidString)")
        var lastLog = ""
        for attempt in 0..<3 {
            if try start(attempt: attempt) { return }
            lastLog = (try? String(contentsOf: logFile(attempt), encoding: .utf8)) ?? ""
            stop()
        }
        throw EtcdProcessError(message: "etcd did not come up on \(endpoint) after 3 attempts; its last log ends:\n\(lastLog.suffix(1500))")
    }

    private func logFile(_ attempt: Int) -> URL { dataDir.appendingPathComponent("etcd-\(attempt).log") }

    /// One start on fresh ports; true once etcd answers a range request.
    private func start(attempt: Int) throws -> Bool {
        try FileManager.default.createDirectory(at: dataDir.appendingPathComponent("member-data"), withIntermediateDirectories: true)
        let client = try Self.freeLoopbackPort(), peer = try Self.freeLoopbackPort()
        endpoint = "http://127.0.0.1:\(client)"
        let peerURL = "http://127.0.0.1:\(peer)"
        FileManager.default.createFile(atPath: logFile(attempt).path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile(attempt))
        defer { try? log.close() }
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--name", "t", "--data-dir", dataDir.appendingPathComponent("member-data").path,
                             "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                             "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
                             "--initial-cluster", "t=\(peerURL)"]
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let etcd = EtcdClient(config: EtcdConfig(endpoints: [endpoint], timeout: .milliseconds(300)))
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, process.isRunning {
            if (try? etcd.range("/")) != nil { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    /// A loopback TCP port no socket holds right now.
    private static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EtcdProcessError(message: "socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard bound else { throw EtcdProcessError(message: "bind to a free loopback port: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDir.appendingPathComponent("member-data"))
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: dataDir)
    }
}

struct EtcdProcessError: Error { var message: String }
