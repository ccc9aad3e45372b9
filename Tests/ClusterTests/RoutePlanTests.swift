import Testing
import Addressing
@testable import Cluster

@Suite struct RoutePlanTests {
    let a = IPAddress("192.0.2.21")!, b = IPAddress("192.0.2.22")!
    let b1 = IPNetwork("10.200.0.0/28")!, b2 = IPNetwork("10.200.0.16/28")!, b3 = IPNetwork("10.200.0.32/28")!

    @Test func routesOtherNodesBlocksViaTheirAddressOnly() {
        let plan = RoutePlan(blocks: [b1: "a", b2: "b", b3: "c", IPNetwork("fd00::/120")!: "b"],
                             nodes: ["a": a, "b": b], me: "a")
        // Own block: none; c has no address: none; a v6 block via a v4 address: none.
        #expect(plan.routes == [b2: b])
    }

    @Test func diffAddsReplacesAndDeletesOnlyWhatChanged() {
        let plan = RoutePlan(blocks: [b2: "b", b3: "b"], nodes: ["b": b], me: "a")
        let (upsert, delete) = plan.diff(installed: [b2: b, b3: a, b1: b])
        #expect(upsert == [b3: b])
        #expect(delete == [b1])
    }
}
