import Addressing

/// The protocol parameters a runtime passes in environment variables,
/// validated for the requested verb.
///
/// Validation happens once, here, so plugin code can trust what it reads:
/// a container ID is safe to store and log, an interface name is one the
/// kernel would accept, a netns is an absolute path. Every failure is code 4
/// and names the variable, as the spec requires.
public struct CNIEnvironment: Sendable, Hashable {
    public var command: CNICommand
    /// `CNI_CONTAINERID`; non-nil for ADD, DEL and CHECK.
    public var containerID: String?
    /// `CNI_NETNS`; non-nil for ADD and CHECK, optional for DEL (the netns
    /// may already be gone). Existence is the plugin's job, not checked here.
    public var netns: String?
    /// `CNI_IFNAME`; non-nil for ADD, DEL and CHECK.
    public var ifname: String?
    /// `CNI_ARGS` pairs, in order.
    public var args: [CNIArgument]
    /// `CNI_PATH` split on `:`, empty entries dropped.
    public var path: [String]
    /// The variables as received, so delegated plugins get the same
    /// environment (spec Section 4).
    public var raw: [String: String]

    public init(command: CNICommand, containerID: String? = nil, netns: String? = nil, ifname: String? = nil,
                args: [CNIArgument] = [], path: [String] = [], raw: [String: String] = [:]) {
        self.command = command
        self.containerID = containerID
        self.netns = netns
        self.ifname = ifname
        self.args = args
        self.path = path
        self.raw = raw
    }

    /// The last value of `key` in `CNI_ARGS` (later pairs override earlier
    /// ones, as in the reference's `LoadArgs`).
    public func arg(_ key: String) -> String? {
        args.last(where: { $0.key == key })?.value
    }

    /// The `(CNI_CONTAINERID, CNI_IFNAME)` pair identifying the attachment;
    /// code 4 when absent (only attachment verbs carry it).
    public func requireAttachment() throws(CNIError) -> Attachment {
        guard let containerID else { throw .invalidEnvironment("required env variables [CNI_CONTAINERID] missing") }
        guard let ifname else { throw .invalidEnvironment("required env variables [CNI_IFNAME] missing") }
        return Attachment(containerID: containerID, ifname: ifname)
    }

    // MARK: Parsing

    /// Parses and validates the variables for the verb in `CNI_COMMAND`.
    ///
    /// Required per verb (spec Section 2): ADD/CHECK need `CNI_CONTAINERID`,
    /// `CNI_NETNS`, `CNI_IFNAME`; DEL needs `CNI_CONTAINERID`, `CNI_IFNAME`.
    /// `CNI_PATH` is optional for every verb (the spec requires it for GC, but
    /// runtimes are inconsistent and only delegation needs it; a plugin that
    /// delegates reports a missing path then, naming `CNI_PATH`). An empty
    /// variable counts as missing, like the reference's `getenv` check.
    public static func parse(_ env: [String: String]) throws(CNIError) -> CNIEnvironment {
        let command = try parseCommand(env)
        var result = CNIEnvironment(command: command, raw: env)

        func value(_ name: String) -> String? {
            guard let v = env[name], !v.isEmpty else { return nil }
            return v
        }

        var missing: [String] = []
        if command.isAttachmentVerb {
            if value("CNI_CONTAINERID") == nil { missing.append("CNI_CONTAINERID") }
            if command != .del, value("CNI_NETNS") == nil { missing.append("CNI_NETNS") }
            if value("CNI_IFNAME") == nil { missing.append("CNI_IFNAME") }
        }
        if !missing.isEmpty {
            throw .invalidEnvironment("required env variables [\(missing.joined(separator: ","))] missing")
        }

        if command.isAttachmentVerb {
            let id = value("CNI_CONTAINERID")!
            try validateContainerID(id)
            result.containerID = id
            let ifname = value("CNI_IFNAME")!
            try validateInterfaceName(ifname)
            result.ifname = ifname
            if let netns = value("CNI_NETNS") {
                try validateNetns(netns)
                result.netns = netns
            }
            if let args = value("CNI_ARGS") {
                result.args = try parseArgs(args)
            }
        }
        if let path = value("CNI_PATH") {
            // Split on the bytes: a Character split costs grapheme breaking on every run.
            result.path = path.utf8.split(separator: UInt8(ascii: ":")).map { String(decoding: $0, as: UTF8.self) }
        }
        return result
    }

    /// `CNI_COMMAND`: missing or unknown is code 4 naming the variable.
    public static func parseCommand(_ env: [String: String]) throws(CNIError) -> CNICommand {
        guard let text = env["CNI_COMMAND"], !text.isEmpty else {
            throw .invalidEnvironment("required env variables [CNI_COMMAND] missing")
        }
        guard let command = CNICommand(rawValue: text) else {
            throw .invalidEnvironment(
                "unknown CNI_COMMAND: \(text)",
                details: "CNI_COMMAND must be one of \(CNICommand.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return command
    }

    /// Spec: starts with an alphanumeric, then alphanumerics, `_`, `.`, `-`;
    /// at most 1024 bytes (our bound: IDs are stored and logged).
    public static func validateContainerID(_ id: String) throws(CNIError) {
        guard !id.isEmpty else { throw .invalidEnvironment("CNI_CONTAINERID is empty") }
        guard id.utf8.count <= 1024 else {
            throw .invalidEnvironment("invalid CNI_CONTAINERID", details: "longer than 1024 bytes")
        }
        guard isValidName(id) else {
            throw .invalidEnvironment("invalid characters in CNI_CONTAINERID", details: id)
        }
    }

    /// The kernel's rules (`dev_valid_name`): 1...15 bytes, not `.` or `..`,
    /// no `/`, `:` or whitespace.
    public static func validateInterfaceName(_ name: String) throws(CNIError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { throw .invalidEnvironment("CNI_IFNAME is empty") }
        guard bytes.count <= 15 else {
            throw .invalidEnvironment("CNI_IFNAME is too long", details: "interface names are at most 15 bytes: \(name)")
        }
        guard bytes != [0x2E], bytes != [0x2E, 0x2E] else {
            throw .invalidEnvironment("CNI_IFNAME must not be . or ..")
        }
        // Kernel isspace(): space, \t \n \v \f \r; plus NUL, which cannot reach the kernel.
        let forbidden: [UInt8] = [0x2F, 0x3A, 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x00]
        guard !bytes.contains(where: { forbidden.contains($0) }) else {
            throw .invalidEnvironment("CNI_IFNAME contains / or : or whitespace characters", details: name)
        }
    }

    /// An absolute path without NUL. Whether it exists is for the plugin to
    /// decide (DEL must succeed when the netns is gone).
    public static func validateNetns(_ netns: String) throws(CNIError) {
        guard netns.utf8.first == UInt8(ascii: "/") else {
            throw .invalidEnvironment("CNI_NETNS must be an absolute path", details: netns)
        }
        guard !netns.utf8.contains(0), netns.utf8.count <= 4096 else {
            throw .invalidEnvironment("invalid CNI_NETNS", details: "contains NUL or is longer than PATH_MAX")
        }
    }

    /// `K=V;K=V`. Empty segments (a trailing `;`) are skipped; a segment
    /// without `=` or with an empty key is code 4 naming `CNI_ARGS`. The value
    /// runs to the end of the segment, so it may itself contain `=`.
    public static func parseArgs(_ text: String) throws(CNIError) -> [CNIArgument] {
        var out: [CNIArgument] = []
        // On the bytes (";" and "=" are ASCII, so no split falls inside a character).
        for segment in text.utf8.split(separator: UInt8(ascii: ";")) {
            guard let eq = segment.firstIndex(of: UInt8(ascii: "=")), eq != segment.startIndex else {
                throw .invalidEnvironment("invalid CNI_ARGS pair \"\(String(decoding: segment, as: UTF8.self))\"",
                                          details: "expected KEY=VALUE;KEY=VALUE")
            }
            out.append(CNIArgument(key: String(decoding: segment[..<eq], as: UTF8.self),
                                   value: String(decoding: segment[segment.index(after: eq)...], as: UTF8.self)))
        }
        return out
    }

    /// `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`, the spec's rule for container IDs and network names.
    static func isValidName(_ s: String) -> Bool {
        var first = true
        for b in s.utf8 {
            let alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            if first {
                guard alnum else { return false }
                first = false
            } else {
                guard alnum || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") else { return false }
            }
        }
        return !first
    }
}

/// One `KEY=VALUE` pair of `CNI_ARGS`.
public struct CNIArgument: Sendable, Hashable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
