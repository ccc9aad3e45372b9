import Addressing
import CNI
import IPAMPlugin
import LeaseService
import LeaseStore
import Testing

/// The lease service's transient failures reach runtimes as CNI 11 (retry),
/// its refusals as Holdfast's own codes: the mapping the service's unit tests
/// (IPAMServiceTransactionTests, IPAMServiceStepTests) end at.
@Suite struct IPAMErrorMappingTests {
    @Test func aLockTimeoutIsTryAgainLater() {
        let error = CNIError.from(ipam: StoreError.lockTimeout(waited: .milliseconds(180)))
        #expect(error.code == 11)
        #expect(error.msg.contains("lock"))
    }

    @Test(arguments: [IPAMServiceError.frozen(network: "n", reason: "maintenance"),
                      IPAMServiceError.exhausted(network: "n", rangeSet: 0, detail: "full")])
    func frozenAndExhaustedAreTryAgainLater(_ e: IPAMServiceError) {
        #expect(CNIError.from(ipam: e).code == 11)
    }

    @Test func refusedRequestsKeepHoldfastsCode() {
        #expect(CNIError.from(ipam: IPAMServiceError.requestedUnplaced(["192.0.2.1"])).code == HoldfastErrorCode.requestedUnavailable)
        #expect(CNIError.from(ipam: IPAMServiceError.requestedUnavailable(address: "10.0.0.5", detail: "taken")).code
                == HoldfastErrorCode.requestedUnavailable)
    }

    /// Every layer's config problem is invalid config (7), its field and problem in the details.
    @Test func aConfigFieldErrorIsInvalidConfig() {
        let error = CNIError.from(ipam: ConfigFieldError(field: "ipam.cluster.etcd", problem: "missing"))
        #expect(error.code == 7)
        #expect(error.msg == "invalid ipam configuration")
        #expect(error.details == "ipam.cluster.etcd: missing")
    }
}
