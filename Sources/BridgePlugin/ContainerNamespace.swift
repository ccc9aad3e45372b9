import CNI
import Netlink

/// The container's network namespace, opened and validated once per verb.
struct ContainerNamespace {
    let namespace: NetworkNamespace
    let path: String

    var fd: Int32 { namespace.fileDescriptor }

    /// Opens `path`, rejecting anything that is not a network namespace with
    /// CNI error 4 naming CNI_NETNS (a missing path is code 3: the container is gone).
    static func open(_ path: String) throws(CNIError) -> ContainerNamespace {
        do {
            return ContainerNamespace(namespace: try NetworkNamespace.open(path: path), path: path)
        } catch {
            if error.isNotFound {
                throw .unknownContainer("network namespace \(path) does not exist", details: "CNI_NETNS: \(error)")
            }
            throw .invalidEnvironment("CNI_NETNS \(path) is not a network namespace", details: "\(error)")
        }
    }

    /// Runs `body` on this thread inside the namespace and always returns to ours.
    func run<T>(_ body: () throws -> T) throws -> T {
        try namespace.withEntered(body)
    }
}
