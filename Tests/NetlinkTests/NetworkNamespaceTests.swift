import Foundation
import Testing
@testable import Netlink

@Suite struct NetworkNamespaceTests {
    @Test func directoryIsRejected() throws {
        let error = try #require(throws: NetlinkError.self) { try NetworkNamespace.open(path: "/tmp") }
        #expect(error.kind == .notANetworkNamespace(path: "/tmp"))
    }

    @Test func regularFileIsRejected() throws {
        let path = "/tmp/hfnl-file-\(UInt32.random(in: 0...UInt32.max))"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: NetlinkError.self) { try NetworkNamespace.open(path: path) }
        #expect(error.kind == .notANetworkNamespace(path: path))
    }

    @Test func otherNamespaceTypeIsRejected() throws {
        let error = try #require(throws: NetlinkError.self) { try NetworkNamespace.open(path: "/proc/self/ns/uts") }
        #expect(error.kind == .notANetworkNamespace(path: "/proc/self/ns/uts"))
    }

    @Test func missingPathCarriesErrno() throws {
        let error = try #require(throws: NetlinkError.self) { try NetworkNamespace.open(path: "/nonexistent/netns") }
        #expect(error.kind == .system && error.errno == ENOENT)
    }

    struct Boom: Error {}

    @Test(.enabled(if: isRoot, "needs root to create namespaces"))
    func withEnteredSwitchesAndAlwaysReturns() throws {
        try withScratchNamespaces(1) { ns in
            let before = try threadNetnsInode()
            let target = try ns[0].namespace.inode()
            #expect(before != target)
            let inside = try ns[0].namespace.withEntered { try threadNetnsInode() }
            #expect(inside == target)
            #expect(try threadNetnsInode() == before)

            #expect(throws: Boom.self) {
                try ns[0].namespace.withEntered {
                    #expect(try threadNetnsInode() == target)
                    throw Boom()
                }
            }
            #expect(try threadNetnsInode() == before)

            // A socket opened inside stays bound to the namespace after leaving it.
            let nl = try ns[0].namespace.withEntered { try NetlinkSocket() }
            try nl.addBridge(name: "hfbrx")
            #expect(try nl.link(named: "hfbrx") != nil)
            let hostView = try NetlinkSocket()
            #expect(try hostView.link(named: "hfbrx") == nil)  // read-only look at the host namespace
        }
    }
}
