import Foundation
import Testing
import Addressing
import IPAM
@testable import LeaseStore

/// Latency of what one plugin run does: open the store, one write transaction
/// with an insert, close. Printed for the report; timing is not asserted (the
/// machine is shared), only that every iteration's lease landed.
@Suite struct LeaseStorePerformanceTests {
    private func median(_ samples: [Duration]) -> Duration { samples.sorted()[samples.count / 2] }

    private func format(_ d: Duration) -> String {
        String(format: "%.3f ms", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000)
    }

    @Test(arguments: [0, 5_000])
    func openAndInsertLatency(existingLeases: Int) throws {
        try withTemporaryDirectory { dir in
            let loc = try location(dir)
            if existingLeases > 0 {
                let store = try LeaseStore.open(loc)
                try store.write(lockTimeout: .seconds(5)) { tx throws in
                    for i in 0..<existingLeases {
                        try tx.insert(sampleLease("10.1.\(i / 250).\(i % 250 + 1)", container: "bulk-\(i)"))
                    }
                }
            }
            let iterations = 100
            var openOnly: [Duration] = [], total: [Duration] = [], readOnly: [Duration] = []
            let clock = ContinuousClock()
            for i in 0..<iterations {
                let lease = sampleLease("10.0.\(i / 250).\(i % 250 + 1)", container: "perf-\(i)")
                let start = clock.now
                do {
                    let store = try LeaseStore.open(loc)
                    let opened = clock.now
                    try store.write(lockTimeout: .seconds(5)) { tx throws in
                        #expect(try tx.availability(of: lease.address, now: Date(), quarantine: .seconds(30)) == .free)
                        try tx.insert(lease)
                        try tx.setLastReserved(lease.address, rangeSet: 0)
                    }
                    openOnly.append(opened - start)
                }
                total.append(clock.now - start)
                let readStart = clock.now
                do {
                    let reader = try LeaseStore.openReadOnly(loc)
                    _ = try reader.read { try $0.leases(containerID: "perf-\(i)", ifname: "eth0") }
                }
                readOnly.append(clock.now - readStart)
            }
            // The same transaction on a store kept open: the commit's fsyncs without
            // open/close (closing the last connection checkpoints the WAL).
            var writeOnly: [Duration] = []
            let kept = try LeaseStore.open(loc)
            for i in 0..<iterations {
                let lease = sampleLease("10.2.\(i / 250).\(i % 250 + 1)", container: "kept-\(i)")
                let start = clock.now
                try kept.write(lockTimeout: .seconds(5)) { tx throws in
                    try tx.insert(lease)
                    try tx.setLastReserved(lease.address, rangeSet: 0)
                }
                writeOnly.append(clock.now - start)
            }
            let store = try LeaseStore.openReadOnly(loc)
            #expect(try store.read { try $0.counts(now: Date(), quarantine: .zero).active } == existingLeases + 2 * iterations)
            print("""
                LeaseStore latency with \(existingLeases) existing leases, median of \(iterations): \
                open \(format(median(openOnly))), open+write{availability,insert,setLastReserved}+close \(format(median(total))), \
                openReadOnly+read{leases(containerID:ifname:)}+close \(format(median(readOnly))), \
                write{insert,setLastReserved} on an open store \(format(median(writeOnly)))
                """)
        }
    }
}
