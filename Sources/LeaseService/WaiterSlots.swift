#if canImport(Glibc)
import Glibc
#else
#error("Holdfast targets Linux only")
#endif
import SystemCalls

/// The cap on processes queueing for a network's lock.
///
/// Before waiting for the flock, a caller must hold one of `max` slot files
/// `<store dir>/waiters/slot.K` with `flock(LOCK_EX | LOCK_NB)`. No free slot
/// means the node is already saturated: fail at once with CNI error 11 rather
/// than add one more sleeping process (and its memory) to the queue. Slots are
/// flocks, so a killed holder frees its slot with its fd: nothing to clean up,
/// no counter to drift.
public enum WaiterSlots {
    /// Takes a slot and returns its fd (close it to free the slot), or nil when
    /// the cap is disabled (`max == 0`). Throws `.tooManyWaiters` when all are busy.
    /// Setup failures (cannot create the directory) disable the cap for this
    /// call rather than fail the operation.
    public static func acquire(directory: String, max: Int, network: String) throws(OperationsError) -> FileDescriptor? {
        guard max > 0 else { return nil }
        let dir = directory + "/waiters"
        if mkdir(dir, 0o700) != 0 && errno != EEXIST { return nil }
        let start = Int(getpid()) % max
        var opened = 0
        for i in 0..<max {
            let k = (start + i) % max
            guard let fd = try? FileDescriptor.open("\(dir)/slot.\(k)", flags: O_CREAT | O_RDWR | O_CLOEXEC, mode: 0o600)
            else { continue }
            opened += 1
            if (try? fd.tryLock()) == true { return fd }
            fd.closeQuietly()
        }
        // Not one slot file could be opened: a setup problem, not a flood.
        if opened == 0 { return nil }
        throw .tooManyWaiters(network: network, max: max)
    }
}
