import Glibc
import Netlink

extension KernelInventory {
    /// Where runtimes bind-mount named network namespaces (`ip netns`, podman, containerd's CNI).
    public static let namedNetnsDirectory = "/run/netns"

    /// Maps namespace ids (as seen from here) to a path under `/run/netns`, for the
    /// ids asked for. Used only when adopting addresses the store lost: an adopted
    /// lease that knows its netns path can later be released by reconcile once the
    /// container is gone, instead of waiting for the next reboot.
    public func netnsPaths(for ids: Set<Int32>) -> [Int32: String] {
        guard !ids.isEmpty, let dir = opendir(Self.namedNetnsDirectory) else { return [:] }
        defer { closedir(dir) }
        var found: [Int32: String] = [:]
        while found.count < ids.count, let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            guard !name.hasPrefix(".") else { continue }
            let path = "\(Self.namedNetnsDirectory)/\(name)"
            guard let ns = try? NetworkNamespace.open(path: path) else { continue }
            defer { ns.close() }
            if let id = try? netlink.nsid(of: ns.fileDescriptor), ids.contains(id) { found[id] = path }
        }
        return found
    }
}
