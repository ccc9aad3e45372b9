import SystemCalls

/// A directory's entry names (without `.` files); empty when it cannot be
/// listed (a runtime directory that does not exist on this host).
enum NamespaceDirectory {
    static func entries(_ path: String) -> [String] {
        ((try? Directory.entries(path)) ?? []).filter { !$0.hasPrefix(".") }
    }
}
