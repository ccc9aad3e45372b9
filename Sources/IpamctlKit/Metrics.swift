#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import ArgumentParser
import Addressing
import IPAM
import LeaseService
import LeaseStore
import SystemCalls

extension Ipamctl {
    /// Prometheus text exposition of every network (or one), from snapshots:
    /// it never takes or waits for the allocation lock, so a slow or stuck
    /// scrape cannot freeze IPAM (the incident in DESIGN.md).
    struct Metrics: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print Prometheus metrics, or write them atomically for node_exporter's textfile collector.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Write to this file (temp file in the same directory, fsync, rename) instead of stdout.")
        var textfile: String?

        func validate() throws {
            if let textfile {
                guard textfile.hasSuffix(".prom") || !textfile.hasSuffix("/") else {
                    throw ValidationError("--textfile must name a file, got \(textfile)")
                }
                let dir = MetricsText.directory(of: textfile)
                var st = stat()
                guard stat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                    throw ValidationError("--textfile directory \(dir) does not exist")
                }
            }
        }

        func run() throws {
            let catalog = StoreCatalog(dataDir: store.dataDir)
            var text = MetricsText()
            for network in try catalog.selected(store.network) {
                text.add(network: network, location: try StoreLocation(dataDir: store.dataDir, network: network))
            }
            let rendered = text.render()
            if let textfile {
                try MetricsText.writeAtomically(rendered, to: textfile)
            } else {
                Output.write(Data(rendered.utf8))
            }
        }
    }
}

/// Builds the exposition text. Each network is read in one snapshot
/// (`openReadOnly` + `read`), so its figures agree with each other.
struct MetricsText {
    private struct Family {
        var name: String
        var type: String
        var help: String
        var samples: [String] = []
    }
    private var families: [Family] = []

    private mutating func sample(_ name: String, _ type: String, _ help: String, _ labels: [(String, String)], _ value: String) {
        if !families.contains(where: { $0.name == name }) { families.append(Family(name: name, type: type, help: help)) }
        let i = families.firstIndex { $0.name == name }!
        let sampleName = type == "histogram" ? name + labels.first { $0.0 == "__suffix" }.map { $0.1 }! : name
        let rendered = labels.filter { $0.0 != "__suffix" }.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
        families[i].samples.append("\(sampleName){\(rendered)} \(value)")
    }

    mutating func add(network: String, location: StoreLocation, now: Date = Date()) {
        let n = ("network", network)
        struct Snapshot {
            var counts: LeaseCounts
            var sets: [RangeSet]
            var quarantined: [IPAddress]
            var multiRangeLeases: [Lease]
            var frozen: String?
            var stats: (allocations: Int64, releases: Int64)
            var generation: Int64
        }
        let snapshot: Snapshot
        do {
            snapshot = try LeaseStore.openReadOnly(location).read { txn in
                let sets = try PoolRecord.rangeSets(in: txn)
                let quarantine = try PoolRecord.quarantine(in: txn)
                return Snapshot(counts: try txn.counts(now: now, quarantine: quarantine), sets: sets,
                                quarantined: try txn.quarantinedAddresses(now: now, quarantine: quarantine),
                                multiRangeLeases: sets.contains { $0.ranges.count > 1 } ? try txn.leases() : [],
                                frozen: try txn.meta(MetaKey.frozen), stats: try StatCounters.read(txn),
                                generation: try txn.generation())
            }
        } catch {
            sample("holdfast_store_up", "gauge", "1 when the network's store could be read.", [n], "0")
            return
        }
        sample("holdfast_store_up", "gauge", "1 when the network's store could be read.", [n], "1")
        for (index, set) in snapshot.sets.enumerated() {
            for range in set.ranges {
                let r = ("range", "\(range.rangeStart)-\(range.rangeEnd)")
                let used = set.ranges.count == 1 ? snapshot.counts.byRangeSet[index] ?? 0
                    : snapshot.multiRangeLeases.filter { $0.rangeSetIndex == index && range.contains($0.address) }.count
                let quarantined = snapshot.quarantined.filter { range.contains($0) }.count
                let size = range.capacity
                let free = size > UInt64(used + quarantined) ? size - UInt64(used + quarantined) : 0
                sample("holdfast_pool_size", "gauge", "Allocatable addresses in the range.", [n, r], String(size))
                sample("holdfast_leases_used", "gauge", "Leases held in the range (active or pending release).", [n, r], String(used))
                sample("holdfast_leases_quarantined", "gauge", "Released addresses resting in quarantine.", [n, r], String(quarantined))
                sample("holdfast_leases_free", "gauge", "Addresses neither leased nor quarantined.", [n, r], String(free))
            }
        }
        sample("holdfast_leases_pending_release", "gauge", "Leases whose DEL waits for unfreeze.", [n], String(snapshot.counts.pendingRelease))
        sample("holdfast_allocations_total", "counter", "Leases handed out.", [n], String(snapshot.stats.allocations))
        sample("holdfast_releases_total", "counter", "Leases released (DEL, GC, unfreeze, release).", [n], String(snapshot.stats.releases))
        sample("holdfast_network_frozen", "gauge", "1 while the network is frozen (ipamctl freeze).", [n], snapshot.frozen == nil ? "0" : "1")
        sample("holdfast_store_generation", "gauge", "Store write generation.", [n], String(snapshot.generation))

        let obs = Observations.load(directory: location.directory)
        for (code, count) in obs.errors.sorted(by: { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }) {
            sample("holdfast_errors_total", "counter", "Failed plugin operations by CNI error code.", [n, ("code", code)], String(count))
        }
        var cumulative = 0
        let help = "Time plugin operations waited for the network's lock."
        for (i, bound) in Observations.bucketBounds.enumerated() {
            cumulative += i < obs.lockWaitBuckets.count ? obs.lockWaitBuckets[i] : 0
            sample("holdfast_lock_wait_seconds", "histogram", help, [("__suffix", "_bucket"), n, ("le", Self.number(bound))], String(cumulative))
        }
        sample("holdfast_lock_wait_seconds", "histogram", help, [("__suffix", "_bucket"), n, ("le", "+Inf")], String(obs.lockWaitCount))
        sample("holdfast_lock_wait_seconds", "histogram", help, [("__suffix", "_sum"), n], Self.number(obs.lockWaitSumSeconds))
        sample("holdfast_lock_wait_seconds", "histogram", help, [("__suffix", "_count"), n], String(obs.lockWaitCount))
    }

    func render() -> String {
        var out = ""
        for f in families {
            out += "# HELP \(f.name) \(f.help)\n# TYPE \(f.name) \(f.type)\n"
            for s in f.samples { out += s + "\n" }
        }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }

    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }

    static func directory(of path: String) -> String { Directory.parent(of: path) }

    /// Temp file in the same directory, write, fsync, rename, fsync the
    /// directory (`AtomicFile`): the collector reads either the old file or the new one.
    static func writeAtomically(_ text: String, to path: String) throws {
        do {
            try AtomicFile.write(Array(text.utf8), to: path, mode: 0o644)
        } catch {
            throw ValidationError("cannot write \(path): \(error)")
        }
    }
}
