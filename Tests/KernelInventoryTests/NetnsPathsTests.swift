import Foundation
@testable import KernelInventory
import Netlink
import Testing

private let isRoot = getuid() == 0

/// `KernelInventory.netnsPaths(for:)` and `isNetworkNamespace(_:)` against a
/// real named namespace (`ip netns add hf-t-<random hex>`), which each test
/// deletes by its exact name however it ends.
@Suite struct NetnsPathsTests {
    struct CommandFailed: Error { let arguments: [String]; let status: Int32 }

    private func ip(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CommandFailed(arguments: arguments, status: process.terminationStatus) }
    }

    /// Runs `body` with a fresh named namespace and its nsid as the host's netlink
    /// socket sees it (assigned here if it has none); `ip netns del NAME` afterwards.
    private func withNamedNamespace<T>(_ body: (_ name: String, _ path: String, _ id: Int32) throws -> T) throws -> T {
        let name = "hf-t-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        try ip(["netns", "add", name])
        defer { try? ip(["netns", "del", name]) }
        let path = "\(KernelInventory.namedNetnsDirectory)/\(name)"
        let id = try NetworkNamespace.withOpened(path: path) { ns in try NetlinkSocket().ensureNSID(of: ns.fileDescriptor) }
        return try body(name, path, id)
    }

    /// A scratch directory standing in for `/run/netns`.
    private func withDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let dir = "/tmp/hf-t-netns-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try body(dir)
    }

    @Test(.enabled(if: isRoot, "needs root (CAP_SYS_ADMIN) for ip netns add"))
    func namedNamespaceIsFoundByItsID() throws {
        try withNamedNamespace { _, path, id in
            #expect(KernelInventory.isNetworkNamespace(path))
            let inventory = KernelInventory(netlink: try NetlinkSocket())
            #expect(inventory.netnsPaths(for: [id]) == [id: path])
            #expect(inventory.netnsPaths(for: []) == [:])
        }
    }

    @Test(.enabled(if: isRoot, "needs root (CAP_SYS_ADMIN) for ip netns add"))
    func deletedNamespaceIsGone() throws {
        try withNamedNamespace { name, path, id in
            try ip(["netns", "del", name])
            #expect(!KernelInventory.isNetworkNamespace(path))
            #expect(KernelInventory(netlink: try NetlinkSocket()).netnsPaths(for: [id]) == [:])
        }
    }

    /// In a directory holding a regular file, a dot entry and a link to the
    /// namespace, only the link is mapped: the file is not a namespace.
    @Test(.enabled(if: isRoot, "needs root (CAP_SYS_ADMIN) for ip netns add"))
    func onlyNamespacesInTheDirectoryAreMapped() throws {
        try withNamedNamespace { _, path, id in
            try withDirectory { dir in
                #expect(FileManager.default.createFile(atPath: "\(dir)/plain", contents: Data("x".utf8)))
                try FileManager.default.createSymbolicLink(atPath: "\(dir)/.hidden", withDestinationPath: path)
                try FileManager.default.createSymbolicLink(atPath: "\(dir)/linked", withDestinationPath: path)
                #expect(!KernelInventory.isNetworkNamespace("\(dir)/plain"))
                let inventory = KernelInventory(netlink: try NetlinkSocket(), netnsDirectory: dir)
                #expect(inventory.netnsPaths(for: [id]) == [id: "\(dir)/linked"])
            }
        }
    }

    /// Needs no root: a regular file, a directory and a missing path are not namespaces.
    @Test func nonNamespacesAreRejected() throws {
        try withDirectory { dir in
            #expect(FileManager.default.createFile(atPath: "\(dir)/plain", contents: Data("x".utf8)))
            #expect(!KernelInventory.isNetworkNamespace("\(dir)/plain"))
            #expect(!KernelInventory.isNetworkNamespace(dir))
            #expect(!KernelInventory.isNetworkNamespace("\(dir)/missing"))
        }
    }
}
