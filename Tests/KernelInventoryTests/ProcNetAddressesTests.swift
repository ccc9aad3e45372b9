import Addressing
import Foundation
@testable import KernelInventory
import Testing

@Suite struct ProcNetAddressesTests {
    /// A fake /proc with one process's net files, as the kernel prints them.
    private func withFakeProc<T>(_ body: (String) throws -> T) throws -> T {
        let root = "/tmp/holdfast-procnet-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/42/net", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try """
            Main:
              +-- 0.0.0.0/0 3 0 5
                 |-- 0.0.0.0
                    /0 universe UNICAST
                 +-- 10.231.1.0/24 2 0 2
                    |-- 10.231.1.0
                       /24 link UNICAST
                    |-- 10.231.1.7
                       /32 host LOCAL
            Local:
              +-- 0.0.0.0/0 3 0 5
                 |-- 10.231.1.7
                    /32 host LOCAL
                 |-- 10.231.1.255
                    /32 link BROADCAST
                 |-- 127.0.0.1
                    /32 host LOCAL

            """.write(toFile: root + "/42/net/fib_trie", atomically: true, encoding: .utf8)
        try """
            fd000000000000000000000000000002 04 40 00 82     eth0
            fe8000000000000000fc00fffe000001 04 40 20 80     eth0
            00000000000000000000000000000001 01 80 10 80       lo

            """.write(toFile: root + "/42/net/if_inet6", atomically: true, encoding: .utf8)
        return try body(root)
    }

    @Test func localAddressesOnlyOnceEach() throws {
        try withFakeProc { root in
            let got = try ProcNetAddresses.read(procRoot: root, pid: "42")
            #expect(got.map(\.address.description) == ["10.231.1.7", "127.0.0.1", "fd00::2", "fe80::fc:ff:fe00:1", "::1"])
            #expect(got[2].ifname == "eth0")
        }
    }

    @Test func aVanishedProcessIsGoneNotUnreadable() throws {
        try withFakeProc { root in
            var outcome = "no error"
            do {
                _ = try ProcNetAddresses.read(procRoot: root, pid: "43")
            } catch ProcNetAddresses.Failure.gone {
                outcome = "gone"
            } catch {
                outcome = "\(error)"
            }
            #expect(outcome == "gone")
        }
    }
}
