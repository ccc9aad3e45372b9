import Foundation
import Etcd

/// A throwaway one-member etcd on loopback with its data in a temp dir,
/// stopped by PID when released. Tests that need it are skipped (visibly)
/// when Debian's etcd-server is not installed.
final class EtcdProcess {
    static let binary = "/usr/bin/etcd"
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    let process = Process()
    let dataDir: URL
    let endpoint: String

    init() throws {
        dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("hf-etcd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        let port = Int.random(in: 20000...45000)
        endpoint = "http://127.0.0.1:\(port)"
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--name", "t", "--data-dir", dataDir.path,
                             "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                             "--listen-peer-urls", "http://127.0.0.1:\(port + 1)",
                             "--initial-advertise-peer-urls", "http://127.0.0.1:\(port + 1)",
                             "--initial-cluster", "t=http://127.0.0.1:\(port + 1)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let client = EtcdClient(config: EtcdConfig(endpoints: [endpoint], timeout: .milliseconds(200)))
        for _ in 0..<100 {
            if (try? client.range("/")) != nil { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw EtcdProcessError(message: "etcd on \(endpoint) did not come up")
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDir)
    }

    deinit { stop() }
}

struct EtcdProcessError: Error { var message: String }
