import ArgumentParser
import Glibc
import Testing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
@testable import Watchdog

@Suite struct OOMCounterTextTests {
    @Test func memoryEvents() {
        let text = "low 0\nhigh 0\nmax 57\noom 2\noom_kill 2\noom_group_kill 0\n"
        #expect(OOMCounterText.oomKills(memoryEvents: text) == 2)
    }

    @Test func oomControl() {
        let text = "oom_kill_disable 0\nunder_oom 1\noom_kill 7\n"
        #expect(OOMCounterText.oomKills(oomControl: text) == 7)
        #expect(OOMCounterText.underOOM(oomControl: text) == true)
    }

    @Test func oldKernelWithoutTheCounterIsNilNotZero() {
        #expect(OOMCounterText.oomKills(oomControl: "oom_kill_disable 0\nunder_oom 0\n") == nil)
        #expect(OOMCounterText.oomKills(memoryEvents: "") == nil)
    }

    @Test func vmstat() {
        #expect(OOMCounterText.oomKills(vmstat: "pgfault 1\noom_kill 3\nnr_free_pages 9\n") == 3)
        #expect(OOMCounterText.oomKills(vmstat: "oom_kill x\n") == nil)
    }
}

@Suite struct ByteSizeTests {
    @Test(arguments: [("32M", UInt64(32 << 20)), ("32MiB", 32 << 20), ("1G", 1 << 30), ("512k", 512 << 10), ("4096", 4096)])
    func parses(_ text: String, _ bytes: UInt64) {
        #expect(ByteSize(parsing: text)?.bytes == bytes)
    }

    @Test(arguments: ["", "0", "M", "12Q", "-5M", "1.5G", "99999999999999999999G"])
    func rejects(_ text: String) {
        #expect(ByteSize(parsing: text) == nil)
    }
}

@Suite struct FenceTests {
    let record = FenceRecord(time: Date(timeIntervalSince1970: 1_700_000_000), agent: ["/usr/bin/agent", "--x"],
                             cgroup: "/sys/fs/cgroup/memory/a", oomCount: 3, exit: "signal 9 (SIGKILL)",
                             bootID: "b00t", hostname: "h", watchdogPID: 42)

    @Test func encodeDecodeRoundTrip() throws {
        let bytes = try record.encoded()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"oomCount\" : 3"))
        #expect(text.contains("2023-11-14T22:13:20Z"))
        #expect(try FenceRecord.decode(bytes) == record)
    }

    @Test func fileLifecycleIsDurableAndStrict() throws {
        let dir = "/tmp/holdfast-wd-unit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { _ = Glibc.system("rm -rf '\(dir)'") }
        let file = FenceFile(path: "\(dir)/sub/fence")
        #expect(!file.read().isFenced)
        try file.write(record)
        guard case .fenced(let back) = file.read() else { Issue.record("expected fenced"); return }
        #expect(back == record)
        // A torn or garbage marker still fences.
        try Sys.writeFileDurably(file.path, Array("{not json".utf8))
        guard case .unreadable = file.read() else { Issue.record("garbage must stay fenced"); return }
        #expect(try file.remove())
        #expect(try !file.remove())
        #expect(!file.read().isFenced)
    }
}

@Suite struct LogTests {
    @Test func lineIsOneJSONObjectInOrder() throws {
        let line = Log.line(.error, "agent_oom_killed", ["exit": "signal 9", "n": 2, "ok": true, "q": "a\"b\n"],
                            time: Date(timeIntervalSince1970: 0), mono: 12.5)
        #expect(line.hasPrefix(#"{"time":"1970-01-01T00:00:00Z","mono":12.500000,"level":"error","event":"agent_oom_killed","#))
        #expect(line.hasSuffix(#""q":"a\"b\n"}"#))
        let decoded = try JSONDecoder().decode([String: LogField].self, from: Data(line.utf8))
        #expect(decoded["n"] == .number(2))
    }

    /// Just enough JSON to check the line decodes.
    enum LogField: Decodable, Equatable {
        case string(String), number(Double), bool(Bool)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else { self = .string(try c.decode(String.self)) }
        }
    }
}

@Suite struct RunCommandTests {
    @Test func execActionSplitsCommandAndAgent() throws {
        let run = try WatchdogCommand.Run.parse(["--action", "exec", "--", "term", "--now", "--", "agent", "-v"])
        let (agent, command) = try run.commands()
        #expect(agent == ["agent", "-v"])
        #expect(command == ["term", "--now"])
        let config = try run.supervisorConfig()
        #expect(config.action == .exec(["term", "--now"]))
        #expect(config.placement == .create(parent: nil, memoryLimit: nil))
    }

    @Test func agentArgumentsMayContainDoubleDashWithoutExec() throws {
        let run = try WatchdogCommand.Run.parse(["--", "agent", "--", "x"])
        #expect(try run.commands().agent == ["agent", "--", "x"])
    }

    @Test(arguments: [
        [String](),
        ["--"],
        ["--action", "exec", "--", "agent"],
        ["--action", "exec", "--", "--", "agent"],
        ["--action", "nope", "--", "agent"],
        ["--cgroup", "/a", "--cgroup-parent", "/b", "--", "agent"],
        ["--cgroup", "/a", "--memory-limit", "1G", "--", "agent"],
        ["--restart", "never", "--max-restarts", "2", "--", "agent"],
        ["--memory-limit", "lots", "--", "agent"],
        ["--stop-timeout", "0", "--", "agent"],
    ])
    func rejectsBadInput(_ args: [String]) {
        #expect(throws: (any Error).self) { try WatchdogCommand.Run.parse(args) }
    }
}

@Suite struct OOMWatchTests {
    /// The v2 notification path (inotify IN_MODIFY on memory.events) on a stand-in
    /// directory: this host's memory controller is bound to v1, so the real v2
    /// file cannot be exercised here; the syscall sequence is the same.
    @Test func v2WatchWakesOnModify() throws {
        let dir = "/tmp/holdfast-wd-v2-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Sys.makeDirectories(dir)
        defer { _ = Glibc.system("rm -rf '\(dir)'") }
        try Sys.writeFileDurably("\(dir)/memory.events", Array("oom 0\noom_kill 0\n".utf8))
        let group = try MemoryCgroup.existing(dir)
        #expect(group.version == .v2)
        let watch = try OOMWatch(.cgroupV2(group))
        defer { watch.close() }
        var fds = [pollfd(fd: watch.fd!, events: Int16(POLLIN), revents: 0)]
        #expect(poll(&fds, 1, 0) == 0)
        try Sys.writeControl("\(dir)/memory.events", "oom 1\noom_kill 1\n")
        #expect(poll(&fds, 1, 1000) == 1)
        watch.drain()
        #expect(try OOMSource.cgroupV2(group).oomKills() == 1)
    }

    @Test func missingCgroupIsAClearError() {
        #expect(throws: WatchdogError.cgroupMissing("/nonexistent/holdfast")) {
            try MemoryCgroup.existing("/nonexistent/holdfast")
        }
    }
}
