import Foundation
import Netlink

let isRoot = getuid() == 0

/// A throwaway named network namespace (`ip netns add hfnl-<random>`), deleted
/// by name when the test's `withScratchNamespaces` returns or throws.
struct ScratchNamespace {
    let name: String
    let namespace: NetworkNamespace

    /// A netlink socket bound to this namespace.
    func socket() throws -> NetlinkSocket { try namespace.withEntered { try NetlinkSocket() } }
}

struct CommandFailed: Error { let command: [String]; let status: Int32 }

func run(_ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw CommandFailed(command: arguments, status: process.terminationStatus) }
}

func withScratchNamespaces<T>(_ count: Int, _ body: ([ScratchNamespace]) throws -> T) throws -> T {
    var created: [ScratchNamespace] = []
    var names: [String] = []
    defer {
        for ns in created { ns.namespace.close() }
        for name in names { try? run(["netns", "del", name]) }
    }
    for _ in 0..<count {
        let name = "hfnl-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try run(["netns", "add", name])
        names.append(name)
        created.append(ScratchNamespace(name: name, namespace: try NetworkNamespace.open(path: "/run/netns/\(name)")))
    }
    return try body(created)
}

func threadNetnsInode() throws -> UInt64 {
    let ns = try NetworkNamespace.current()
    defer { ns.close() }
    return try ns.inode()
}
