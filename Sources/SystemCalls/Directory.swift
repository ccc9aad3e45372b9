#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Directory calls: listing (`readdir`), `mkdir -p`, and fsync of a directory
/// (what makes a create, rename or unlink in it durable).
public enum Directory {
    /// The names in `path`, without `.` and `..`, in the kernel's order.
    /// A missing directory throws `ENOENT` so callers decide what it means.
    public static func entries(_ path: String) throws(SystemCallError) -> [String] {
        guard let dir = opendir(path) else { throw .last("opendir(\(path))") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// fsyncs the directory itself.
    public static func sync(_ path: String) throws(SystemCallError) {
        let fd = try FileDescriptor.open(path, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { fd.closeQuietly() }
        try fd.sync(what: "fsync(\(path))")
    }

    /// `mkdir -p`: creates missing components with `mode`; existing directories
    /// are kept as they are. A component that exists but is not a directory
    /// throws `ENOTDIR`.
    public static func create(_ path: String, mode: mode_t = 0o755) throws(SystemCallError) {
        // The full path first: in the steady state it exists, and one mkdir
        // and one stat answer that (a walk from the root cost two calls per
        // component on every plugin run).
        if mkdir(path, mode) == 0 { return }
        let e = Errno.captured
        switch e {
        case .fileExists:
            guard isDirectory(path) else { throw SystemCallError("mkdir(\(path))", errno: .notDirectory) }
        case .noSuchFileOrDirectory:
            let up = parent(of: path)
            guard up != path, up != "/", up != "." else { throw SystemCallError("mkdir(\(path))", errno: e) }
            try create(up, mode: mode)
            if mkdir(path, mode) != 0 {
                let again = Errno.captured
                guard again == .fileExists else { throw SystemCallError("mkdir(\(path))", errno: again) }
                guard isDirectory(path) else { throw SystemCallError("mkdir(\(path))", errno: .notDirectory) }
            }
        default:
            throw SystemCallError("mkdir(\(path))", errno: e)
        }
    }

    /// True when `path` exists and is a directory (following symlinks).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The directory part of `path` (`.` when it has none, `/` for the root).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }
}
