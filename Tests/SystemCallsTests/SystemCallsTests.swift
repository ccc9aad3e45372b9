import Glibc
import SystemCalls
import Testing

/// A fresh directory under /tmp, removed (with its files) by `cleanup`.
struct ScratchDirectory {
    let path: String

    init() {
        var template = Array("/tmp/holdfast-syscalls-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = made.map { String(cString: $0) } ?? "/tmp/holdfast-syscalls-failed"
    }

    func cleanup() {
        for name in (try? Directory.entries(path)) ?? [] { _ = unlink("\(path)/\(name)") }
        _ = rmdir(path)
    }
}

@Suite struct SystemCallsTests {
    @Test func atomicWriteReplacesContentAndLeavesNoTemporary() throws {
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        let file = "\(dir.path)/x.prom"
        try AtomicFile.write(Array("one\n".utf8), to: file, mode: 0o644)
        try AtomicFile.write(Array("two\n".utf8), to: file, mode: 0o640)
        let fd = try FileDescriptor.open(file, flags: O_RDONLY | O_CLOEXEC)
        let bytes = try fd.closing { try $0.readAll() }
        #expect(String(decoding: bytes, as: UTF8.self) == "two\n")
        #expect(try Directory.entries(dir.path) == ["x.prom"])
        var st = stat()
        #expect(stat(file, &st) == 0 && st.st_mode & 0o777 == 0o640)
    }

    @Test func atomicWriteIntoMissingDirectoryThrowsENOENTAndCreatesNothing() {
        #expect(throws: SystemCallError.self) {
            try AtomicFile.write([1], to: "/tmp/holdfast-syscalls-no-such-dir-\(getpid())/f")
        }
        do {
            try AtomicFile.write([1], to: "/tmp/holdfast-syscalls-no-such-dir-\(getpid())/f")
        } catch {
            #expect(error.errno == .noSuchFileOrDirectory)
            #expect(error.operation.hasPrefix("open("))
        }
    }

    @Test func removeReportsWhetherSomethingWasThere() throws {
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        try AtomicFile.write([1, 2], to: "\(dir.path)/f")
        #expect(try AtomicFile.remove("\(dir.path)/f"))
        #expect(try !AtomicFile.remove("\(dir.path)/f"))
    }

    @Test func entriesListNamesWithoutDotsAndMissingIsENOENT() throws {
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        for name in ["a", "b.db", ".hidden"] { try AtomicFile.write([], to: "\(dir.path)/\(name)") }
        #expect(try Directory.entries(dir.path).sorted() == [".hidden", "a", "b.db"])
        do {
            _ = try Directory.entries("\(dir.path)/missing")
            Issue.record("expected ENOENT")
        } catch {
            #expect(error.errno == .noSuchFileOrDirectory)
        }
    }

    @Test func createMakesParentsKeepsExistingAndRejectsFiles() throws {
        let dir = ScratchDirectory()
        defer {
            _ = rmdir("\(dir.path)/a/b")
            _ = rmdir("\(dir.path)/a")
            dir.cleanup()
        }
        try Directory.create("\(dir.path)/a/b", mode: 0o700)
        try Directory.create("\(dir.path)/a/b", mode: 0o700)
        #expect(Directory.isDirectory("\(dir.path)/a/b"))
        try AtomicFile.write([], to: "\(dir.path)/file")
        do {
            try Directory.create("\(dir.path)/file/sub")
            Issue.record("expected ENOTDIR")
        } catch {
            #expect(error.errno == .notDirectory)
        }
    }

    @Test(arguments: [("/a/b", "/a"), ("/a", "/"), ("a", "."), ("a/b/c", "a/b")])
    func parent(path: String, expected: String) {
        #expect(Directory.parent(of: path) == expected)
    }

    @Test func writeAllAndReadBackThroughAPipe() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        let reader = FileDescriptor(rawValue: fds[0]), writer = FileDescriptor(rawValue: fds[1])
        defer { reader.closeQuietly() }
        let payload = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
        try writer.writeAllBytes(payload)
        writer.closeQuietly()
        var got: [UInt8] = []
        while true {
            let chunk = try reader.readSome(maxCount: 4096)
            if chunk.isEmpty { break }
            got += chunk
        }
        #expect(got == payload)
    }

    @Test func writeToAClosedPipeThrowsEPIPE() throws {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        FileDescriptor(rawValue: fds[0]).closeQuietly()
        let writer = FileDescriptor(rawValue: fds[1])
        defer { writer.closeQuietly() }
        do {
            try writer.writeAllBytes([1, 2, 3], what: "write(pipe)")
            Issue.record("expected EPIPE")
        } catch {
            #expect(error.errno == .brokenPipe)
            #expect(error.operation == "write(pipe)")
        }
    }

    @Test func tryLockIsExclusiveAcrossOpenFileDescriptions() throws {
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        let a = try FileDescriptor.open("\(dir.path)/lock", flags: O_CREAT | O_RDWR | O_CLOEXEC, mode: 0o600)
        let b = try FileDescriptor.open("\(dir.path)/lock", flags: O_RDWR | O_CLOEXEC)
        defer { b.closeQuietly() }
        #expect(try a.tryLock())
        #expect(try !b.tryLock())
        a.closeQuietly()
        #expect(try b.tryLock())
    }

    @Test func spawnRunsTheChildWithItsEnvironmentAndReportsExit() throws {
        let pid = try Spawn(executable: "/bin/sh", arguments: ["sh", "-c", "test \"$HF\" = yes && exit 7"],
                            environment: ["HF=yes"]).start()
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        #expect((status >> 8) & 0xff == 7)
    }

    @Test func aDetachedChildHasItsOwnSessionAndNoLeakedDescriptor() throws {
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        // A descriptor leaked to us without close-on-exec, as a careless caller's would be.
        var pair: [Int32] = [0, 0]
        #expect(pipe(&pair) == 0)
        defer { close(pair[0]); close(pair[1]) }
        let out = try FileDescriptor.open("\(dir.path)/out", flags: O_CREAT | O_WRONLY | O_CLOEXEC, mode: 0o600)
        defer { out.closeQuietly() }
        let script = "read -r _ _ _ _ _ sid _ < /proc/$$/stat; echo $$ $sid; ls /proc/$$/fd"
        let pid = try Spawn(executable: "/bin/sh", arguments: ["sh", "-c", script],
                            redirections: [(out.rawValue, 1)], detached: true).start()
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        let written = try FileDescriptor.open("\(dir.path)/out", flags: O_RDONLY | O_CLOEXEC).closing { try $0.readAll() }
        let lines = String(decoding: written, as: UTF8.self).split(separator: "\n")
        let ids = lines.first?.split(separator: " ") ?? []
        #expect(ids.count == 2 && ids[0] == ids[1], "the child leads its own session: \(lines)")
        let fds = Set(lines.dropFirst())
        #expect(!fds.contains(Substring("\(pair[0])")) && !fds.contains(Substring("\(pair[1])")), "leaked pipe reached the child: \(fds)")
        #expect(fds.contains("1"))
    }

    @Test func spawnOfAMissingExecutableThrowsENOENT() {
        do {
            _ = try Spawn(executable: "/nonexistent/holdfast-\(getpid())").start()
            Issue.record("expected ENOENT")
        } catch {
            #expect(error.errno == .noSuchFileOrDirectory)
        }
    }
}
