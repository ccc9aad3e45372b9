import Glibc
import Netlink
import SystemCalls

extension KernelInventory {
    /// Where runtimes bind-mount named network namespaces (`ip netns`, podman, containerd's CNI).
    public static let namedNetnsDirectory = "/run/netns"

    /// Maps namespace ids (as seen from here) to a path under `netnsDirectory`, for the
    /// ids asked for. Used only when adopting addresses the store lost: an adopted
    /// lease that knows its netns path can later be released by reconcile once the
    /// container is gone, instead of waiting for the next reboot.
    public func netnsPaths(for ids: Set<Int32>) -> [Int32: String] {
        guard !ids.isEmpty, let names = try? Directory.entries(netnsDirectory) else { return [:] }
        var found: [Int32: String] = [:]
        for name in names where found.count < ids.count {
            guard !name.hasPrefix(".") else { continue }
            let path = "\(netnsDirectory)/\(name)"
            guard let ns = try? NetworkNamespace.open(path: path) else { continue }
            defer { ns.close() }
            if let id = try? netlink.nsid(of: ns.fileDescriptor), ids.contains(id) { found[id] = path }
        }
        return found
    }
}
