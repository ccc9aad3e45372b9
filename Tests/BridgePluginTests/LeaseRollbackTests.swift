@testable import BridgePlugin
import Testing

/// ADD's rollback releases a new lease only after the veth is gone (issue 12):
/// a veth that could not be deleted may still carry the address, so its lease
/// stays and the step fails with the reason (logged next to ADD's error).
@Suite struct LeaseRollbackTests {
    struct Failure: Error {}

    @Test func releasesAfterTheLinkIsGone() throws {
        var released = false
        try LeaseRollback.run(deleteLink: {}, linkExists: { false }, release: { released = true })
        #expect(released)
    }

    @Test func aLinkThatWasAlreadyGoneStillReleases() throws {
        var released = false
        try LeaseRollback.run(deleteLink: { throw Failure() }, linkExists: { false }, release: { released = true })
        #expect(released)
    }

    @Test func keepsTheLeaseWhenTheLinkCouldNotBeDeleted() {
        var released = false
        #expect(throws: LeaseKept.self) {
            try LeaseRollback.run(deleteLink: { throw Failure() }, linkExists: { true }, release: { released = true })
        }
        #expect(!released)
    }

    @Test func keepsTheLeaseWhenTheLinkCannotBeLookedUp() {
        var released = false
        #expect(throws: LeaseKept.self) {
            try LeaseRollback.run(deleteLink: {}, linkExists: { throw Failure() }, release: { released = true })
        }
        #expect(!released)
    }
}
