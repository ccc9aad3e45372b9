import Glibc

/// Whether two namespace paths name the same namespace: equal after folding
/// `/var/run` into `/run` (a symlink on every current distribution), or, when
/// both still exist, the same nsfs device and inode. Used by DEL to find a
/// lease adopted from a namespace scan, which records where the namespace was
/// found rather than the path the runtime passes as CNI_NETNS.
enum AdoptedNamespace {
    static func same(_ a: String, _ b: String) -> Bool {
        if fold(a) == fold(b) { return true }
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    private static func fold(_ path: String) -> String {
        path.hasPrefix("/var/run/") ? String(path.dropFirst(4)) : path
    }
}
