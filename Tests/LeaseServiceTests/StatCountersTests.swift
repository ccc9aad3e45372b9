import Foundation
import Addressing
import LeaseStore
import Testing
@testable import LeaseService

/// The metrics counters are incremented in place (one shared upsert, no read
/// first): these pin down that they still count every allocation and release,
/// in the transaction that made them, next to the generation bump.
@Suite struct StatCountersTests {
    let c1 = Addressing.Attachment(containerID: "c1", ifname: "eth0")
    let c2 = Addressing.Attachment(containerID: "c2", ifname: "eth0")

    private func counters(_ s: IPAMService) throws -> (allocations: Int64, releases: Int64, generation: Int64) {
        try s.store.read { txn in
            let (a, r) = try StatCounters.read(txn)
            return (a, r, try txn.generation())
        }
    }

    @Test func allocationsAndReleasesAreCountedWithTheirTransaction() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            #expect(try counters(s) == (0, 0, 0))
            _ = try s.allocate(c1, details: AttachmentDetails(netns: nil))
            _ = try s.allocate(c2, details: AttachmentDetails(netns: nil))
            let added = try counters(s)
            #expect(added.allocations == 2 && added.releases == 0)
            _ = try s.release(c1)
            _ = try s.release(c1)  // idempotent: nothing released, nothing counted
            let released = try counters(s)
            #expect(released.allocations == 2 && released.releases == 1)
            #expect(released.generation == added.generation + 1)
        }
    }

    @Test func aCounterThatIsNotANumberRestartsAndOthersAreUntouched() throws {
        try withDataDirectory { dir in
            let s = try service(dir)
            _ = try s.allocate(c1, details: AttachmentDetails(netns: nil))
            try s.store.write(lockTimeout: .seconds(5)) { txn in
                try txn.setMeta(MetaKey.releasesTotal, "garbage")
            }
            _ = try s.release(c1)
            let after = try counters(s)
            #expect(after.releases == 1)
            #expect(after.allocations == 1)
        }
    }
}
