import IPAM

extension LeaseTransaction {
    /// Host-side interface names recorded in leases: the bridge plugin compares
    /// them with the bridge's ports to prove the store is current before it
    /// allocates (a port the store does not know may carry a live address).
    public func hostInterfaces() throws(StoreError) -> Set<String> {
        checkOpen()
        var names = Set<String>()
        try connection.query("SELECT host_interface FROM leases WHERE host_interface IS NOT NULL") { stmt throws(StoreError) in
            if let name = stmt.text(0) { names.insert(name) }
        }
        return names
    }

    /// The leases recorded against one host interface: how DEL finds a lease
    /// that reconcile adopted from the kernel without knowing its container.
    public func leases(hostInterface: String) throws(StoreError) -> [Lease] {
        try leases().filter { $0.hostInterface == hostInterface }
    }
}

extension LeaseTransaction {
    /// How many times any lease row was inserted, updated or deleted, by any
    /// client (kept by triggers): changes even when the lease count does not.
    public func leaseEpoch() throws(StoreError) -> Int64 {
        Int64(try meta(.leaseEpoch) ?? "0") ?? 0
    }
}
