#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Testing
@testable import CNI

/// A temp directory of tiny shell-script plugins, removed afterwards.
final class PluginDir {
    let path: String
    private var files: [String] = []

    init() throws {
        var template = Array("/tmp/holdfast-cni-test-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw CNIError.ioFailure("mkdtemp failed") }
        path = String(cString: p)
    }

    /// Writes `name` with `body` after a `#!/bin/sh` line.
    func script(_ name: String, _ body: String, mode: mode_t = 0o755) {
        let full = path + "/" + name
        let text = "#!/bin/sh\n" + body + "\n"
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, mode)
        precondition(fd >= 0)
        _ = text.utf8CString.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, text.utf8.count) }
        close(fd)
        chmod(full, mode)
        files.append(full)
    }

    deinit {
        for f in files { unlink(f) }
        rmdir(path)
    }
}

private let config = Data(#"{"cniVersion":"1.1.0","name":"n","type":"holdfast","ipam":{"type":"echo-ipam"}}"#.utf8)
private let environment = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_IFNAME": "eth0", "CNI_NETNS": "/x"]

@Suite struct DelegatedPluginTests {
    @Test func successPassesStdinAndEnvironmentThrough() throws {
        let dir = try PluginDir()
        // Prints {"command":..., "containerID":..., "stdin": <its stdin>}.
        dir.script("echo-ipam", #"printf '{"command":"%s","containerID":"%s","stdin":' "$CNI_COMMAND" "$CNI_CONTAINERID"; cat; printf '}'"#)
        let out = try DelegatedPlugin.exec(type: "echo-ipam", command: .del, config: config, environment: environment,
                                           cniPath: ["/nonexistent", dir.path])
        let v = try JSONValue.decode(out)
        #expect(v["command"] == "DEL")  // the verb we asked for, not the inherited one
        #expect(v["containerID"] == "c1")
        #expect(v["stdin"] == (try JSONValue.decode(config)))
    }

    @Test func delegatedAddDecodesTheResult() throws {
        let dir = try PluginDir()
        dir.script("ipam", #"cat >/dev/null; echo '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.0.5/16","gateway":"10.1.0.1"}],"dns":{}}'"#)
        let env = try CNIEnvironment.parse(environment.merging(["CNI_PATH": dir.path]) { $1 })
        let request = try CNIRequest(environment: env, config: NetworkConfig(decoding: config))
        let r = try DelegatedPlugin.add(type: "ipam", request: request)
        #expect(r.ips.map(\.address.description) == ["10.1.0.5/16"])
    }

    @Test func errorJSONIsPassedThrough() throws {
        let dir = try PluginDir()
        dir.script("busy", #"cat >/dev/null; echo '{"cniVersion":"1.1.0","code":11,"msg":"store locked","details":"waited 5s"}'; exit 1"#)
        do {
            _ = try DelegatedPlugin.exec(type: "busy", command: .add, config: config, environment: environment, cniPath: [dir.path])
            Issue.record("expected an error")
        } catch {
            #expect(error == CNIError(code: 11, msg: "store locked", details: "waited 5s"))
        }
    }

    @Test func failureWithoutErrorJSONNamesThePluginAndStatus() throws {
        let dir = try PluginDir()
        dir.script("crash", "echo boom; exit 3")
        do {
            _ = try DelegatedPlugin.exec(type: "crash", command: .add, config: config, environment: environment, cniPath: [dir.path])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == 999)
            #expect(error.msg.contains("crash") && error.msg.contains("exit status 3"), "\(error)")
            #expect(error.details.contains("boom"))
        }
    }

    @Test func missingPluginIsAClearError() throws {
        let dir = try PluginDir()
        dir.script("not-executable", "exit 0", mode: 0o644)
        for type in ["nope", "not-executable"] {
            do {
                _ = try DelegatedPlugin.exec(type: type, command: .add, config: config, environment: environment, cniPath: [dir.path, "/nonexistent"])
                Issue.record("expected an error")
            } catch {
                #expect(error.code == 7)
                #expect(error.msg == "failed to find plugin \"\(type)\" in path [\(dir.path) /nonexistent]")
            }
        }
    }

    @Test(arguments: ["../bin/sh", "/bin/sh", "a/b", "", ".", ".."])
    func typesWithPathCharactersAreRejected(_ type: String) {
        #expect(throws: CNIError.self) { try DelegatedPlugin.find(type: type, in: ["/bin", "/usr/bin"]) }
        do { _ = try DelegatedPlugin.find(type: type, in: ["/bin"]) } catch { #expect(error.code == 7) }
    }

    @Test func emptyPathNamesCNIPath() {
        do {
            _ = try DelegatedPlugin.find(type: "host-local", in: [])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == 4)
            #expect(error.msg.contains("CNI_PATH"))
        }
    }

    @Test func childThatIgnoresLargeStdinDoesNotKillUs() throws {
        let dir = try PluginDir()
        dir.script("lazy", #"echo '{"cniVersion":"1.1.0"}'"#)  // never reads stdin
        let big = Data(repeating: UInt8(ascii: " "), count: 4 << 20)
        let out = try DelegatedPlugin.exec(type: "lazy", command: .add, config: big, environment: environment, cniPath: [dir.path])
        #expect(try JSONValue.decode(out)["cniVersion"] == "1.1.0")
    }

    @Test func largeStdinAndStdoutDoNotDeadlock() throws {
        let dir = try PluginDir()
        dir.script("cat", "exec cat")
        let big = Data((0..<(768 * 1024)).map { UInt8(truncatingIfNeeded: $0 % 251) })
        let out = try DelegatedPlugin.exec(type: "cat", command: .add, config: big, environment: environment, cniPath: [dir.path])
        #expect(out == big)
    }

    @Test func outputBeyondTheBoundKillsTheChild() throws {
        let dir = try PluginDir()
        dir.script("chatty", "exec yes")
        do {
            _ = try DelegatedPlugin.exec(type: "chatty", command: .add, config: config, environment: environment,
                                         cniPath: [dir.path], maxOutput: 64 * 1024)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == 999)
            #expect(error.msg.contains("more than 65536 bytes"))
        }
    }

    @Test func timeoutKillsTheChild() throws {
        let dir = try PluginDir()
        dir.script("slow", "exec sleep 30")
        let start = ContinuousClock.now
        do {
            _ = try DelegatedPlugin.exec(type: "slow", command: .add, config: config, environment: environment,
                                         cniPath: [dir.path], timeout: .milliseconds(200))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == 11)
            #expect(error.msg.contains("slow"))
        }
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
