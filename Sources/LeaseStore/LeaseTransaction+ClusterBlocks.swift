#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing

/// A cluster block this node owns, as recorded in its local store before any
/// address from it is handed out.
public struct StoredBlock: Sendable, Hashable {
    public var cidr: IPNetwork
    /// Index of the pool (and range set) the block belongs to.
    public var pool: Int
    /// The block key's etcd create revision: the ownership epoch.
    public var epoch: Int64
    public var claimedAt: Date
    public init(cidr: IPNetwork, pool: Int, epoch: Int64, claimedAt: Date) {
        self.cidr = cidr
        self.pool = pool
        self.epoch = epoch
        self.claimedAt = claimedAt
    }
}

/// Cluster mode's two tables. They are created on a cluster network's first
/// block, so node-local stores never change shape; `CREATE ... IF NOT EXISTS`
/// is the migration (older builds do not read them, and refuse cluster configs).
extension LeaseTransaction {
    static let clusterSchemaSQL = """
        CREATE TABLE IF NOT EXISTS cluster_blocks (
            cidr TEXT PRIMARY KEY NOT NULL,
            pool INTEGER NOT NULL,
            epoch INTEGER NOT NULL,
            claimed_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS lease_blocks (
            address TEXT PRIMARY KEY NOT NULL,
            block TEXT NOT NULL,
            epoch INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    private func hasClusterTables() throws(StoreError) -> Bool {
        try connection.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'cluster_blocks'") ?? 0 > 0
    }

    /// The blocks this store has recorded as owned, by address.
    public func clusterBlocks() throws(StoreError) -> [StoredBlock] {
        checkOpen()
        guard try hasClusterTables() else { return [] }
        var out: [StoredBlock] = []
        try connection.query("SELECT cidr, pool, epoch, claimed_at FROM cluster_blocks") { stmt throws(StoreError) in
            guard let text = stmt.text(0), let cidr = IPNetwork(text) else {
                throw .corrupt(path: connection.path, detail: "cluster_blocks holds \"\(stmt.text(0) ?? "")\", not a CIDR")
            }
            out.append(StoredBlock(cidr: cidr, pool: Int(stmt.int(1)), epoch: stmt.int(2), claimedAt: Date(milliseconds: stmt.int(3))))
        }
        return out.sorted { $0.cidr.address < $1.cidr.address }
    }

    /// Records (or re-records at a new epoch) an owned block.
    public func recordClusterBlock(_ block: StoredBlock) throws(StoreError) {
        guard isWritable else { throw .readOnly(operation: "recordClusterBlock") }
        checkOpen()
        try connection.exec(Self.clusterSchemaSQL)
        try connection.query("""
            INSERT INTO cluster_blocks (cidr, pool, epoch, claimed_at) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (cidr) DO UPDATE SET pool = excluded.pool, epoch = excluded.epoch, claimed_at = excluded.claimed_at
            """, [.text(block.cidr.description), .int(Int64(block.pool)), .int(block.epoch), .int(block.claimedAt.milliseconds)])
    }

    /// Forgets an owned block (after the owner released it in etcd).
    public func removeClusterBlock(_ cidr: IPNetwork) throws(StoreError) {
        guard isWritable else { throw .readOnly(operation: "removeClusterBlock") }
        checkOpen()
        guard try hasClusterTables() else { return }
        try connection.query("DELETE FROM cluster_blocks WHERE cidr = ?1", [.text(cidr.description)])
    }

    /// Notes which block (and ownership epoch) a lease's address came from.
    public func setLeaseBlock(address: IPAddress, block: IPNetwork, epoch: Int64) throws(StoreError) {
        guard isWritable else { throw .readOnly(operation: "setLeaseBlock") }
        checkOpen()
        try connection.query("""
            INSERT INTO lease_blocks (address, block, epoch) VALUES (?1, ?2, ?3)
            ON CONFLICT (address) DO UPDATE SET block = excluded.block, epoch = excluded.epoch
            """, [.text(address.description), .text(block.description), .int(epoch)])
    }

    /// The block and epoch each address was last leased from.
    public func leaseBlocks() throws(StoreError) -> [IPAddress: (block: IPNetwork, epoch: Int64)] {
        checkOpen()
        guard try hasClusterTables() else { return [:] }
        var out: [IPAddress: (block: IPNetwork, epoch: Int64)] = [:]
        try connection.query("SELECT address, block, epoch FROM lease_blocks") { stmt in
            if let a = stmt.text(0).flatMap({ IPAddress($0) }), let b = stmt.text(1).flatMap({ IPNetwork($0) }) {
                out[a] = (b, stmt.int(2))
            }
        }
        return out
    }
}
