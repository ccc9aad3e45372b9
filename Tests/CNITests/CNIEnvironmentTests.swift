import Testing
import Addressing
@testable import CNI

private let addEnv: [String: String] = [
    "CNI_COMMAND": "ADD", "CNI_CONTAINERID": "abc123", "CNI_NETNS": "/var/run/netns/blue",
    "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin:/usr/lib/cni", "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAME=web-0",
]

private func env(_ base: [String: String], _ changes: [String: String?]) -> [String: String] {
    var e = base
    for (k, v) in changes { e[k] = v }
    return e
}

private func code4(_ e: [String: String], naming variable: String) {
    do {
        _ = try CNIEnvironment.parse(e)
        Issue.record("expected code 4 naming \(variable)")
    } catch {
        #expect(error.code == 4)
        #expect(error.msg.contains(variable) || error.details.contains(variable), "\(error)")
    }
}

@Suite struct CNIEnvironmentTests {
    @Test func parsesAValidAdd() throws {
        let e = try CNIEnvironment.parse(addEnv)
        #expect(e.command == .add)
        #expect(e.containerID == "abc123")
        #expect(e.netns == "/var/run/netns/blue")
        #expect(e.ifname == "eth0")
        #expect(e.path == ["/opt/cni/bin", "/usr/lib/cni"])
        #expect(e.args == [CNIArgument(key: "IgnoreUnknown", value: "1"), CNIArgument(key: "K8S_POD_NAME", value: "web-0")])
        #expect(e.arg("K8S_POD_NAME") == "web-0")
        #expect(e.raw == addEnv)
        #expect(try e.requireAttachment() == Attachment(containerID: "abc123", ifname: "eth0"))
    }

    @Test func missingOrUnknownCommandNamesTheVariable() {
        code4(env(addEnv, ["CNI_COMMAND": nil]), naming: "CNI_COMMAND")
        code4(env(addEnv, ["CNI_COMMAND": ""]), naming: "CNI_COMMAND")
        code4(env(addEnv, ["CNI_COMMAND": "add"]), naming: "CNI_COMMAND")
        code4(env(addEnv, ["CNI_COMMAND": "FROB"]), naming: "CNI_COMMAND")
    }

    struct Required: Sendable, CustomStringConvertible {
        var command: String
        var variable: String
        var description: String { "\(command) without \(variable)" }
    }

    @Test(arguments: [
        Required(command: "ADD", variable: "CNI_CONTAINERID"), Required(command: "ADD", variable: "CNI_NETNS"),
        Required(command: "ADD", variable: "CNI_IFNAME"), Required(command: "CHECK", variable: "CNI_CONTAINERID"),
        Required(command: "CHECK", variable: "CNI_NETNS"), Required(command: "CHECK", variable: "CNI_IFNAME"),
        Required(command: "DEL", variable: "CNI_CONTAINERID"), Required(command: "DEL", variable: "CNI_IFNAME"),
    ])
    func requiredVariablesPerVerb(_ c: Required) {
        code4(env(addEnv, ["CNI_COMMAND": c.command, c.variable: nil]), naming: c.variable)
        code4(env(addEnv, ["CNI_COMMAND": c.command, c.variable: ""]), naming: c.variable)
    }

    @Test func missingVariablesAreAllNamed() {
        do {
            _ = try CNIEnvironment.parse(["CNI_COMMAND": "ADD"])
            Issue.record("expected failure")
        } catch {
            #expect(error.msg == "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing")
        }
    }

    @Test func delWithoutNetnsIsFine() throws {
        let e = try CNIEnvironment.parse(env(addEnv, ["CNI_COMMAND": "DEL", "CNI_NETNS": nil]))
        #expect(e.command == .del)
        #expect(e.netns == nil)
        let e2 = try CNIEnvironment.parse(env(addEnv, ["CNI_COMMAND": "DEL", "CNI_NETNS": ""]))
        #expect(e2.netns == nil)
    }

    @Test func verbsWithoutAttachmentNeedOnlyTheCommand() throws {
        for verb in ["VERSION", "STATUS", "GC"] {
            let e = try CNIEnvironment.parse(["CNI_COMMAND": verb])
            #expect(e.command.rawValue == verb)
            #expect(e.containerID == nil && e.ifname == nil && e.netns == nil && e.path.isEmpty)
            #expect(throws: CNIError.self) { try e.requireAttachment() }
        }
        // GC is lenient about CNI_PATH but uses it when given.
        let gc = try CNIEnvironment.parse(["CNI_COMMAND": "GC", "CNI_PATH": "/a::/b:"])
        #expect(gc.path == ["/a", "/b"])
    }

    @Test(arguments: ["a", "A1", "0abc", "abc_def.ghi-jkl", String(repeating: "f", count: 1024)])
    func validContainerIDs(_ id: String) throws {
        let e = try CNIEnvironment.parse(env(addEnv, ["CNI_CONTAINERID": id]))
        #expect(e.containerID == id)
    }

    @Test(arguments: ["_abc", "-abc", ".abc", "abc def", "abc/def", "abc;def", "ab\u{e9}", "abc\n",
                      String(repeating: "f", count: 1025)])
    func invalidContainerIDs(_ id: String) {
        code4(env(addEnv, ["CNI_CONTAINERID": id]), naming: "CNI_CONTAINERID")
    }

    @Test(arguments: ["eth0", "e", "net1.100", "a-b_c@d", String(repeating: "x", count: 15), "\u{e9}th0"])
    func validInterfaceNames(_ name: String) throws {
        let e = try CNIEnvironment.parse(env(addEnv, ["CNI_IFNAME": name]))
        #expect(e.ifname == name)
    }

    @Test(arguments: [".", "..", "eth/0", "eth:0", "eth 0", "eth\t0", "eth0\n", String(repeating: "x", count: 16),
                      "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}"])  // 16 bytes in UTF-8
    func invalidInterfaceNames(_ name: String) {
        code4(env(addEnv, ["CNI_IFNAME": name]), naming: "CNI_IFNAME")
    }

    @Test(arguments: ["var/run/netns/x", "./x", "netns"])
    func relativeNetnsIsRejected(_ netns: String) {
        code4(env(addEnv, ["CNI_NETNS": netns]), naming: "CNI_NETNS")
    }

    @Test func netnsWithNULIsRejected() {
        code4(env(addEnv, ["CNI_NETNS": "/proc/1/ns/net\u{0}x"]), naming: "CNI_NETNS")
    }

    @Test func netnsIsNotCheckedForExistence() throws {
        let e = try CNIEnvironment.parse(env(addEnv, ["CNI_NETNS": "/nonexistent/netns/path"]))
        #expect(e.netns == "/nonexistent/netns/path")
    }

    @Test func argsParsing() throws {
        #expect(try CNIEnvironment.parseArgs("") == [])
        #expect(try CNIEnvironment.parseArgs("A=1;") == [CNIArgument(key: "A", value: "1")])
        #expect(try CNIEnvironment.parseArgs("A=;B=x=y") == [CNIArgument(key: "A", value: ""), CNIArgument(key: "B", value: "x=y")])
        let e = try CNIEnvironment.parse(env(addEnv, ["CNI_ARGS": "IP=10.0.0.5;IP=10.0.0.6"]))
        #expect(e.arg("IP") == "10.0.0.6")
        #expect(e.arg("missing") == nil)
    }

    @Test(arguments: ["A", "A=1;B", "=1", "A=1;=2"])
    func malformedArgsAreCode4(_ args: String) {
        code4(env(addEnv, ["CNI_ARGS": args]), naming: "CNI_ARGS")
    }
}
