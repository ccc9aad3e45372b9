@testable import BridgePlugin
import CNI
import Glibc
import IPAMPlugin
import Netlink
import Testing

/// Error codes of the bridge plugin's own failures (issue 12).
@Suite struct BridgeErrorCodeTests {
    @Test func kernelFailuresAreCode110() {
        let error = CNIError.from(bridge: NetlinkError(operation: "ip link add hf123 type veth", kind: .kernel,
                                                       errno: EPERM, kernelMessage: nil))
        #expect(error.code == HoldfastErrorCode.kernel)
        #expect(error.msg.contains("ip link add"))
    }

    @Test func forceAddressConflictIsAConfigError() {
        let error = CNIError.from(bridge: BridgeError.addressConflict("bridge b0 already has 10.0.0.9/24; set forceAddress"))
        #expect(error.code == 7)
    }

    @Test func aForeignLinkNamesItself() {
        let error = CNIError.from(bridge: BridgeError.foreignLink(name: "hf0123456789a", alias: "holdfast x eth0", kind: "veth"))
        #expect(error.code == HoldfastErrorCode.kernel)
        #expect(error.msg.contains("hf0123456789a") && error.msg.contains("holdfast x eth0"))
    }
}
