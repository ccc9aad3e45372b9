#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import LeaseStore
import SystemCalls

extension IPAMService {
    /// `store.write` behind the flood guards, with metrics:
    /// 1. takes a waiter slot (`WaiterSlots`, `ipam.maxWaiters`) or fails at once
    ///    with `OperationsError.tooManyWaiters` (CNI 11);
    /// 2. waits for the flock at most `ipam.lockTimeoutMs` (then CNI 11);
    /// 3. runs `body`, then `counting` in the same transaction, adding its
    ///    (allocations, releases) to `StatCounters` (no extra fsync);
    /// 4. after commit and unlock, records the lock wait in `Observations`,
    ///    best effort, while the commit's WAL is written back.
    /// How long this run may still wait for the lock so that the whole run,
    /// including its own start-up before and rollback after a failed wait, ends
    /// within `lockTimeoutMs` of the run's `started`: the deadline a runtime (or a
    /// flood) sees. A tenth of the budget (at most 250 ms) is kept for the work
    /// after the wait; at least 20 ms of waiting is always allowed.
    func lockBudget() -> Duration {
        let reserve = min(config.lockTimeout / 10, .milliseconds(250))
        let elapsed = ContinuousClock.now - started
        return max(config.lockTimeout - reserve - elapsed, .milliseconds(20))
    }

    func guardedWrite<T>(counting: (LeaseTransaction, T) throws -> (allocations: Int, releases: Int) = { _, _ in (0, 0) },
                         _ body: (LeaseTransaction) throws -> T) throws -> T {
        let directory = store.location.directory
        let slot = try WaiterSlots.acquire(directory: directory, max: config.operations.maxWaiters, network: network)
        defer { slot?.closeQuietly() }
        let clock = ContinuousClock()
        let start = clock.now
        var waited: Duration?
        var observed = false
        func observe() {
            guard let waited, !observed else { return }
            observed = true
            let c = waited.components
            Observations.update(directory: directory) {
                $0.observeLockWait(seconds: Double(c.seconds) + Double(c.attoseconds) / 1e18)
            }
        }
        // A failed write records its wait on the way out; a committed one while
        // its WAL is being written back, so the update costs it no time.
        defer { observe() }
        do {
            return try store.write(lockTimeout: lockBudget(), whileSyncing: observe) { txn in
                waited = clock.now - start
                let result = try body(txn)
                let (allocations, releases) = try counting(txn, result)
                try StatCounters.add(txn, allocations: allocations, releases: releases)
                return result
            }
        } catch StoreError.lockTimeout(let w) {
            waited = w
            throw StoreError.lockTimeout(waited: w)
        }
    }
}
