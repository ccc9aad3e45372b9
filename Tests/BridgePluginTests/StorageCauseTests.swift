import CNI
import Glibc
import IPAMPlugin
import LeaseStore
import Testing

/// Storage failures name their cause in `msg` (issue 12): runtimes show
/// `msg`, and "lease store error" alone sent operators to the logs.
@Suite struct StorageCauseTests {
    struct Case: Sendable, CustomStringConvertible {
        var errno: Int32
        var words: String
        var description: String { words }
    }

    @Test(arguments: [Case(errno: ENOSPC, words: "disk full"), Case(errno: EROFS, words: "read-only file system"),
                      Case(errno: EIO, words: "I/O error"), Case(errno: EDQUOT, words: "disk quota exceeded")])
    func storageErrnoIsNamedInMsg(_ c: Case) {
        let error = CNIError.from(ipam: StoreError.io(operation: "fdatasync(/var/lib/cni/x/leases.db-wal)", errno: c.errno))
        #expect(error.code == HoldfastErrorCode.internal)
        #expect(error.msg.contains(c.words), "\(error.msg)")
        #expect(error.details.contains("fdatasync"))
    }

    @Test func otherStoreErrorsKeepTheirCode() {
        let error = CNIError.from(ipam: StoreError.sqlite(code: 1, message: "SQL logic error"))
        #expect(error.code == HoldfastErrorCode.internal)
        #expect(error.details.contains("SQL logic error"))
    }
}
