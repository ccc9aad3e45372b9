import Foundation
import Addressing
import IPAM
@testable import LeaseStore

/// A fresh directory under /tmp for one test, removed when `body` finishes
/// (also when it throws or an expectation fails).
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array("/tmp/holdfast-store-test-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw StoreError.io(operation: "mkdtemp", errno: errno)
    }
    let path = String(cString: made)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

func location(_ dir: String, _ network: String = "net1") throws -> StoreLocation {
    try StoreLocation(dataDir: dir, network: network)
}

/// Creates the store at `loc` holding one lease (`sampleLease(address)`) and
/// closes it, for tests about what a later open finds.
func createStoreWithOneLease(_ loc: StoreLocation, _ address: String = "10.9.0.1") throws {
    let store = try LeaseStore.open(loc)
    try store.write(lockTimeout: .seconds(5)) { tx throws in
        try tx.insert(sampleLease(address, container: "c1"))
    }
}

func address(_ text: String) -> IPAddress {
    guard let a = IPAddress(text) else { fatalError("bad test address \(text)") }
    return a
}

/// A lease with every optional field filled, so round trips check them all.
func sampleLease(_ text: String, container: String = "c1", ifname: String = "eth0", rangeSet: Int = 0,
                 createdAt: Date = Date(timeIntervalSince1970: 1_700_000_000.123)) -> Lease {
    Lease(address: address(text), rangeSetIndex: rangeSet, containerID: container, ifname: ifname,
          netns: "/var/run/netns/\(container)", createdAt: createdAt, hostInterface: "veth\(container)",
          hostIfindex: 42, containerMAC: "02:00:00:00:00:01", bootID: "boot-1", state: .active)
}

func fileBytes(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { Array($0) }
}

func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

/// Elapsed wall time of `body`.
func measure<T>(_ body: () throws -> T) rethrows -> (T, Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try body()
    return (result, clock.now - start)
}
