#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The shared `main` of both plugins: parses the environment and stdin,
/// answers VERSION itself, gates verbs by version, calls the plugin and
/// prints exactly one JSON document (result or error) or nothing.
public enum CNIDispatcher {
    /// Largest accepted stdin. Real configs are a few KiB; the bound keeps
    /// one run's memory small whatever a caller pipes in.
    public static let defaultMaxConfigSize = 1 << 20

    /// Runs one invocation and returns the exit status (0 or 1).
    ///
    /// Steps:
    /// 1. `CNI_COMMAND` (code 4 if missing/unknown).
    /// 2. VERSION: answer `{"cniVersion": <input's or 1.1.0>, "supportedVersions": [...]}`
    ///    whatever the input; stdin is not read when it is a terminal.
    /// 3. Read stdin, bounded by `maxConfigSize` (code 7 beyond).
    /// 4. Validate the environment for the verb (code 4), then the config (codes 1/6/7).
    /// 5. CHECK needs cniVersion >= 0.4.0; STATUS and GC need >= 1.1.0 (code 1),
    ///    as the reference `skel` enforces.
    /// 6. Call the plugin; ADD prints its result in the config's version shape.
    ///
    /// Error JSON carries the config's `cniVersion` when it is a supported one,
    /// else "1.1.0". Output ends with a newline. `release` (the Holdfast
    /// version) is added to the VERSION answer as `"holdfast"` and to `about`.
    public static func run(plugin: some CNIPlugin, environment: [String: String], io: CNIIO,
                           maxConfigSize: Int = defaultMaxConfigSize, about: String? = nil,
                           release: String? = nil) -> Int32 {
        var errorVersion = CNIVersion.latest.rawValue
        do {
            let command: CNICommand
            do {
                command = try CNIEnvironment.parseCommand(environment)
            } catch {
                if let about, (environment["CNI_COMMAND"] ?? "").isEmpty {
                    let version = release.map { "version \($0)\n" } ?? ""
                    io.writeStderr("\(about)\n\(version)CNI protocol versions supported: \(CNIVersion.supportedStrings.joined(separator: ", "))\n")
                }
                throw error
            }

            if command == .version {
                var version = CNIVersion.latest.rawValue
                if !io.stdinIsTerminal, let bytes = try? io.readAll(limit: maxConfigSize),
                   let s = (try? JSONValue.decode(Data(bytes)))?["cniVersion"]?.stringValue, !s.isEmpty {
                    version = s
                }
                return emit(VersionResult(cniVersion: version, holdfastVersion: release).encoded(), io: io) ? 0 : 1
            }

            let stdin = Data(try io.readAll(limit: maxConfigSize))
            let parsed = Result { () throws(CNIError) -> JSONValue in try JSONValue.decode(stdin, what: "network config") }
            if case .success(let value) = parsed, let s = value["cniVersion"]?.stringValue, CNIVersion(rawValue: s) != nil {
                errorVersion = s
            }
            let env = try CNIEnvironment.parse(environment)
            let config = try NetworkConfig(json: parsed.get(), bytes: stdin)
            try gate(command, config.cniVersion)

            let request = CNIRequest(environment: env, config: config, stdinBytes: stdin)
            switch command {
            case .add:
                let result = try plugin.add(request)
                return emit(result.encoded(for: config.cniVersion), io: io) ? 0 : 1
            case .del: try plugin.del(request)
            case .check: try plugin.check(request)
            case .status: try plugin.status(request)
            case .gc: try plugin.gc(request)
            case .version: break  // answered above
            }
            return 0
        } catch {
            let e = CNIError(wrapping: error)
            _ = emit(e.encoded(cniVersion: errorVersion), io: io)
            return 1
        }
    }

    /// Entry point for a plugin executable: the process environment, fds 0/1/2,
    /// and `exit` with the status.
    public static func main(plugin: some CNIPlugin, about: String? = nil, release: String? = nil) -> Never {
        _ = started
        isProcessEntry.store(true, ordering: .relaxed)
        let status = run(plugin: plugin, environment: processEnvironment(), io: .fileDescriptors(), about: about,
                         release: release)
        exit(status)
    }

    /// True once `main` runs: this process is one plugin invocation and ends
    /// with it (not a test or tool calling `run` many times).
    private static let isProcessEntry = Atomic<Bool>(false)

    /// Keeps `object` alive until the plugin process exits, so its teardown is
    /// never run: closing the lease store (finalising statements, freeing
    /// SQLite's schema and page cache, unmapping its index) was about a tenth
    /// of a steady-state IPAM run's instructions, work the kernel does for free
    /// at exit. Only for objects whose deinit has no effect beyond the process
    /// (memory, descriptors, fcntl locks); the store's commits are durable
    /// before the verb returns. Outside `main` (tests, tools) it does nothing.
    public static func keepUntilExit(_ object: AnyObject) {
        guard isProcessEntry.load(ordering: .relaxed) else { return }
        _ = Unmanaged.passRetained(object)
    }

    /// When this plugin run started (first touched by `main`): deadlines that
    /// promise "the whole run ends within N ms" count from here.
    public static let started = ContinuousClock.now

    /// The process environment from `environ` (no Foundation `ProcessInfo` needed).
    /// Sized for every entry up front: growing a dictionary rehashes all it
    /// holds, which cost a run as much as filling it.
    public static func processEnvironment() -> [String: String] {
        var count = 0
        while environ[count] != nil { count += 1 }
        var env = [String: String](minimumCapacity: count)
        var p = environ
        while let entry = p.pointee {
            // Split on the bytes: Character-level search costs grapheme breaking.
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { base in
                let bytes = UnsafeBufferPointer(start: base, count: length)
                if let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
                    env[String(decoding: bytes[..<eq], as: UTF8.self)] = String(decoding: bytes[(eq + 1)...], as: UTF8.self)
                }
            }
            p += 1
        }
        return env
    }

    static func gate(_ command: CNICommand, _ version: CNIVersion) throws(CNIError) {
        switch command {
        case .check where !version.supportsCheck:
            throw .incompatibleVersion("config version does not allow CHECK", details: "CHECK needs cniVersion 0.4.0 or later, got \(version)")
        case .status where !version.supportsStatusAndGC:
            throw .incompatibleVersion("config version does not allow STATUS", details: "STATUS needs cniVersion 1.1.0 or later, got \(version)")
        case .gc where !version.supportsStatusAndGC:
            throw .incompatibleVersion("config version does not allow GC", details: "GC needs cniVersion 1.1.0 or later, got \(version)")
        default:
            break
        }
    }

    private static func emit(_ json: Data, io: CNIIO) -> Bool {
        io.write(Array(json) + [UInt8(ascii: "\n")])
    }
}
