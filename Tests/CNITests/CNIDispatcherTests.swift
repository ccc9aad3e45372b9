#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import Glibc
import Testing
@testable import CNI

/// Records calls; answers ADD with `result`, throws `failure` when set.
final class FakePlugin: CNIPlugin {
    var calls: [(CNICommand, CNIRequest)] = []
    var result = ipamResult
    var failure: (any Error)?

    private func record(_ c: CNICommand, _ r: CNIRequest) throws {
        calls.append((c, r))
        if let failure { throw failure }
    }
    func add(_ request: CNIRequest) throws -> CNIResult { try record(.add, request); return result }
    func del(_ request: CNIRequest) throws { try record(.del, request) }
    func check(_ request: CNIRequest) throws { try record(.check, request) }
    func status(_ request: CNIRequest) throws { try record(.status, request) }
    func gc(_ request: CNIRequest) throws { try record(.gc, request) }
}

/// In-memory stdin/stdout; counts how many stdin bytes were handed out.
final class FakeIO {
    var stdin: [UInt8]
    var infinite = false
    var bytesRead = 0
    var readCalls = 0
    var stdout: [UInt8] = []
    var stderr = ""
    var terminal = false

    init(_ text: String = "") { stdin = Array(text.utf8) }

    var io: CNIIO {
        CNIIO(
            read: { (max: Int) throws(CNIError) -> [UInt8] in
                self.readCalls += 1
                if self.infinite {
                    self.bytesRead += max
                    return [UInt8](repeating: UInt8(ascii: " "), count: max)
                }
                let chunk = Array(self.stdin.prefix(max))
                self.stdin.removeFirst(chunk.count)
                self.bytesRead += chunk.count
                return chunk
            },
            write: { self.stdout += $0; return true },
            writeStderr: { self.stderr += $0 },
            stdinIsTerminal: terminal)
    }

    var output: String { String(decoding: stdout, as: UTF8.self) }

    /// stdout must be exactly one JSON document and a newline.
    func json() throws -> JSONValue {
        #expect(stdout.last == UInt8(ascii: "\n"))
        #expect(stdout.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") })
        return try JSONValue.decode(Data(stdout.dropLast()))
    }
}

private let attachmentEnv: [String: String] = [
    "CNI_CONTAINERID": "c0ffee", "CNI_NETNS": "/var/run/netns/blue", "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin",
]

private func env(_ command: String, _ extra: [String: String?] = [:]) -> [String: String] {
    var e = attachmentEnv
    e["CNI_COMMAND"] = command
    for (k, v) in extra { e[k] = v }
    return e
}

private func conf(_ version: String) -> String {
    #"{"cniVersion":"\#(version)","name":"testnet","type":"holdfast","ipam":{"type":"holdfast-ipam"}}"#
}

@Suite struct CNIDispatcherTests {
    @Test func versionEchoesInputAndListsOurs() throws {
        let plugin = FakePlugin()
        let fake = FakeIO(#"{"cniVersion":"0.4.0"}"#)
        #expect(CNIDispatcher.run(plugin: plugin, environment: ["CNI_COMMAND": "VERSION"], io: fake.io) == 0)
        #expect(fake.output == #"{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}"# + "\n")
        #expect(plugin.calls.isEmpty)
    }

    @Test func versionAnswersForUnknownMissingOrBrokenInput() throws {
        for (input, expected) in [(#"{"cniVersion":"0.2.0"}"#, "0.2.0"), ("{}", "1.1.0"), ("", "1.1.0"), ("garbage", "1.1.0")] {
            let fake = FakeIO(input)
            #expect(CNIDispatcher.run(plugin: FakePlugin(), environment: ["CNI_COMMAND": "VERSION"], io: fake.io) == 0)
            #expect(try fake.json()["cniVersion"]?.stringValue == expected)
            #expect(try fake.json()["supportedVersions"]?.arrayValue?.count == 5)
        }
    }

    @Test func versionDoesNotWaitOnATerminal() throws {
        let fake = FakeIO()
        fake.terminal = true
        #expect(CNIDispatcher.run(plugin: FakePlugin(), environment: ["CNI_COMMAND": "VERSION"], io: fake.io) == 0)
        #expect(fake.readCalls == 0)
        #expect(try fake.json()["cniVersion"] == "1.1.0")
    }

    @Test(arguments: CNIVersion.allCases)
    func addPrintsTheResultInTheConfigVersion(_ v: CNIVersion) throws {
        let plugin = FakePlugin()
        plugin.result = bridgeResult
        let fake = FakeIO(conf(v.rawValue))
        #expect(CNIDispatcher.run(plugin: plugin, environment: env("ADD"), io: fake.io) == 0)
        #expect(fake.output == String(decoding: bridgeResult.encoded(for: v), as: UTF8.self) + "\n")
        #expect(plugin.calls.count == 1)
        let (command, request) = try #require(plugin.calls.first)
        #expect(command == .add)
        #expect(request.environment.containerID == "c0ffee")
        #expect(request.config.name == "testnet")
        #expect(request.stdinBytes == Data(conf(v.rawValue).utf8))
    }

    @Test(arguments: ["DEL", "CHECK", "STATUS", "GC"])
    func otherVerbsPrintNothingOnSuccess(_ verb: String) throws {
        let plugin = FakePlugin()
        let fake = FakeIO(conf("1.1.0"))
        #expect(CNIDispatcher.run(plugin: plugin, environment: env(verb), io: fake.io) == 0)
        #expect(fake.stdout.isEmpty)
        #expect(plugin.calls.map(\.0.rawValue) == [verb])
    }

    @Test func gcAndStatusNeedNoAttachmentVariables() throws {
        for verb in ["GC", "STATUS"] {
            let plugin = FakePlugin()
            let fake = FakeIO(#"{"cniVersion":"1.1.0","name":"n","type":"t","cni.dev/valid-attachments":[]}"#)
            #expect(CNIDispatcher.run(plugin: plugin, environment: ["CNI_COMMAND": verb], io: fake.io) == 0)
            #expect(plugin.calls.count == 1)
        }
    }

    struct Gate: Sendable, CustomStringConvertible {
        var verb: String
        var version: String
        var description: String { "\(verb) at \(version)" }
    }

    @Test(arguments: [Gate(verb: "CHECK", version: "0.3.1"), Gate(verb: "CHECK", version: "0.3.0"),
                      Gate(verb: "STATUS", version: "1.0.0"), Gate(verb: "GC", version: "1.0.0"), Gate(verb: "GC", version: "0.4.0")])
    func verbsAreGatedByVersion(_ g: Gate) throws {
        let plugin = FakePlugin()
        let fake = FakeIO(conf(g.version))
        #expect(CNIDispatcher.run(plugin: plugin, environment: env(g.verb), io: fake.io) == 1)
        let e = try fake.json()
        #expect(e["code"]?.intValue == 1)
        #expect(e["msg"]?.stringValue?.contains(g.verb) == true)
        #expect(e["cniVersion"]?.stringValue == g.version)
        #expect(plugin.calls.isEmpty)
    }

    @Test func oversizedStdinIsRejectedWithoutReadingItAll() throws {
        let plugin = FakePlugin()
        let fake = FakeIO()
        fake.infinite = true  // an endless stdin: an unbounded read would never return
        let limit = 4096
        #expect(CNIDispatcher.run(plugin: plugin, environment: env("ADD"), io: fake.io, maxConfigSize: limit) == 1)
        #expect(fake.bytesRead == limit + 1)
        let e = try fake.json()
        #expect(e["code"]?.intValue == 7)
        #expect(e["msg"]?.stringValue == "configuration larger than 4096 bytes")
        #expect(plugin.calls.isEmpty)
    }

    @Test func defaultLimitIsOneMiB() throws {
        let fake = FakeIO()
        fake.infinite = true
        #expect(CNIDispatcher.run(plugin: FakePlugin(), environment: env("ADD"), io: fake.io) == 1)
        #expect(fake.bytesRead == 1_048_577)
        #expect(try fake.json()["msg"] == "configuration larger than 1048576 bytes")
    }

    @Test func configExactlyAtTheLimitIsAccepted() throws {
        let body = conf("1.0.0")
        let padded = body + String(repeating: " ", count: 4096 - body.utf8.count)
        let fake = FakeIO(padded)
        #expect(CNIDispatcher.run(plugin: FakePlugin(), environment: env("DEL"), io: fake.io, maxConfigSize: 4096) == 0)
    }

    @Test func missingCommandIsCode4() throws {
        let fake = FakeIO(conf("1.0.0"))
        #expect(CNIDispatcher.run(plugin: FakePlugin(), environment: attachmentEnv, io: fake.io, about: "holdfast test") == 1)
        let e = try fake.json()
        #expect(e["code"]?.intValue == 4)
        #expect(e["msg"]?.stringValue?.contains("CNI_COMMAND") == true)
        #expect(e["cniVersion"] == "1.1.0")
        #expect(fake.stderr.contains("holdfast test"))  // the human hint goes to stderr only
    }

    @Test func environmentErrorCarriesTheConfigVersion() throws {
        let plugin = FakePlugin()
        let fake = FakeIO(conf("0.4.0"))
        #expect(CNIDispatcher.run(plugin: plugin, environment: env("ADD", ["CNI_NETNS": nil]), io: fake.io) == 1)
        let e = try fake.json()
        #expect(e["code"]?.intValue == 4)
        #expect(e["msg"]?.stringValue?.contains("CNI_NETNS") == true)
        #expect(e["cniVersion"] == "0.4.0")
        #expect(plugin.calls.isEmpty)
    }

    @Test func badConfigsMapToTheirCodes() throws {
        for (input, code) in [("{nope", 6), ("[1]", 6), (#"{"cniVersion":"0.1.0","name":"n","type":"t"}"#, 1),
                              (#"{"cniVersion":"1.0.0","type":"t"}"#, 7), (#"{"name":"n","type":"t"}"#, 1)] {
            let plugin = FakePlugin()
            let fake = FakeIO(input)
            #expect(CNIDispatcher.run(plugin: plugin, environment: env("ADD"), io: fake.io) == 1)
            let e = try fake.json()
            #expect(e["code"]?.intValue == code, "\(input)")
            #expect(e["cniVersion"] == (code == 7 ? "1.0.0" : "1.1.0"))
            #expect(plugin.calls.isEmpty)
        }
    }

    @Test func pluginCNIErrorIsPrintedAsIs() throws {
        let plugin = FakePlugin()
        plugin.failure = CNIError.tryAgainLater("lease store busy", details: "waited 5s")
        let fake = FakeIO(conf("1.0.0"))
        #expect(CNIDispatcher.run(plugin: plugin, environment: env("ADD"), io: fake.io) == 1)
        #expect(fake.output == #"{"cniVersion":"1.0.0","code":11,"details":"waited 5s","msg":"lease store busy"}"# + "\n")
    }

    struct Oops: Error, CustomStringConvertible { var description: String { "disk on fire" } }

    @Test func otherErrorsBecomeCode999() throws {
        let plugin = FakePlugin()
        plugin.failure = Oops()
        let fake = FakeIO(conf("1.1.0"))
        #expect(CNIDispatcher.run(plugin: plugin, environment: env("DEL"), io: fake.io) == 1)
        let e = try fake.json()
        #expect(e["code"]?.intValue == 999)
        #expect(e["msg"] == "disk on fire")
    }

    @Test func failedStdoutWriteIsAFailure() {
        let fake = FakeIO(conf("1.1.0"))
        var io = fake.io
        io.write = { _ in false }
        #expect(CNIDispatcher.run(plugin: FakePlugin(), environment: env("ADD"), io: io) == 1)
    }

    @Test func fileDescriptorIOReadsAPipe() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let text = conf("1.1.0")
        _ = text.utf8CString.withUnsafeBytes { write(fds[1], $0.baseAddress, text.utf8.count) }
        close(fds[1])
        var out: [Int32] = [0, 0]
        #expect(pipe(&out) == 0)
        let status = CNIDispatcher.run(plugin: FakePlugin(), environment: env("ADD"), io: .fileDescriptors(stdin: fds[0], stdout: out[1]))
        close(out[1])
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(out[0], $0.baseAddress, 4096) }
        close(out[0])
        #expect(status == 0)
        #expect(String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self) == String(decoding: ipamResult.encoded(for: .v1_1_0), as: UTF8.self) + "\n")
    }
}
