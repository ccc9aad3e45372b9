#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import SystemCalls

/// Best-effort observations that do not belong in the lease transaction:
/// errors by CNI code and the lock-wait histogram, in a tiny JSON file
/// `<store dir>/observations.json` beside the store.
///
/// Why a separate file: an error must be counted even when the store could not
/// be written (that is often *why* it failed), and recording must never make
/// ADD slower or fail it. So updates take the file's own flock with `LOCK_NB`
/// (a few 1 ms retries at most), are not fsync'd, and drop the observation
/// rather than wait. Readers (`ipamctl metrics`) take a shared `LOCK_NB` lock
/// and never wait either.
public struct Observations: Codable, Sendable, Equatable {
    /// Failed operations by CNI error code (as text: JSON object keys).
    public var errors: [String: Int] = [:]
    /// Non-cumulative counts per `bucketBounds` entry, plus one overflow bucket.
    public var lockWaitBuckets: [Int] = Array(repeating: 0, count: Observations.bucketBounds.count + 1)
    public var lockWaitSumSeconds: Double = 0
    public var lockWaitCount: Int = 0

    /// Upper bounds (seconds) of the lock-wait histogram buckets.
    public static let bucketBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    public static let fileName = "observations.json"

    public init() {}

    public mutating func observeLockWait(seconds: Double) {
        let index = Self.bucketBounds.firstIndex { seconds <= $0 } ?? Self.bucketBounds.count
        if lockWaitBuckets.count != Self.bucketBounds.count + 1 {
            lockWaitBuckets = Array(repeating: 0, count: Self.bucketBounds.count + 1)
        }
        lockWaitBuckets[index] += 1
        lockWaitSumSeconds += seconds
        lockWaitCount += 1
    }

    public mutating func observeError(code: Int) {
        errors[String(code), default: 0] += 1
    }

    /// Applies `change` to the file in `directory`. Never throws, never blocks
    /// for more than a few milliseconds; a missing directory records nothing.
    public static func update(directory: String, _ change: (inout Observations) -> Void) {
        guard let fd = try? FileDescriptor.open(directory + "/" + fileName, flags: O_CREAT | O_RDWR | O_CLOEXEC, mode: 0o600)
        else { return }
        defer { fd.closeQuietly() }
        guard lock(fd, exclusive: true) else { return }
        var value = (try? JSONDecoder().decode(Observations.self, from: Data(fd.readAll()))) ?? Observations()
        change(&value)
        guard let data = try? JSONEncoder().encode(value) else { return }
        if (try? fd.writeAll(toAbsoluteOffset: 0, data)) == data.count { _ = try? fd.resize(to: Int64(data.count)) }
    }

    /// The current observations (empty when none were recorded or the file is busy).
    public static func load(directory: String) -> Observations {
        guard let fd = try? FileDescriptor.open(directory + "/" + fileName, flags: O_RDONLY | O_CLOEXEC) else {
            return Observations()
        }
        defer { fd.closeQuietly() }
        _ = lock(fd, exclusive: false)  // a torn read only costs one scrape; never wait for it
        return (try? JSONDecoder().decode(Observations.self, from: Data(fd.readAll()))) ?? Observations()
    }

    private static func lock(_ fd: FileDescriptor, exclusive: Bool) -> Bool {
        for _ in 0..<5 {
            if (try? fd.tryLock(exclusive: exclusive)) == true { return true }
            usleep(1000)
        }
        return false
    }
}
