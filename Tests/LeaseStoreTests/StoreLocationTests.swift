import Testing
@testable import LeaseStore

@Suite struct StoreLocationTests {
    @Test func pathsAreUnderTheNetworkDirectory() throws {
        let loc = try StoreLocation(dataDir: "/var/lib/cni/networks", network: "mynet")
        #expect(loc.directory == "/var/lib/cni/networks/mynet")
        #expect(loc.lockPath == "/var/lib/cni/networks/mynet/lock")
        #expect(loc.databasePath == "/var/lib/cni/networks/mynet/leases.db")
        #expect(try StoreLocation(dataDir: "/data/", network: "n").directory == "/data/n")
    }

    @Test(arguments: ["", ".", "..", ".hidden", "a/b", "../etc", "/abs", "nul\u{0}x", String(repeating: "x", count: 201)])
    func invalidNamesAreRejected(name: String) {
        #expect(throws: StoreError.self) { try StoreLocation(dataDir: "/tmp", network: name) }
    }

    @Test(arguments: ["net1", "my-net_2.v6", "a..b", String(repeating: "x", count: 200), "réseau"])
    func validNamesAreAccepted(name: String) throws {
        #expect(try StoreLocation(dataDir: "/tmp", network: name).network == name)
    }

    @Test func nameLimitCountsBytesNotCharacters() {
        // 101 two-byte characters = 202 bytes.
        #expect(throws: StoreError.self) { try StoreLocation(dataDir: "/tmp", network: String(repeating: "é", count: 101)) }
    }
}
