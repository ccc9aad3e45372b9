import Addressing

/// A cluster-wide CIDR cut into equal blocks of `blockPrefix`, each owned by
/// at most one node at a time.
///
/// Blocks are numbered from 0 at the pool's lowest address, so a block's
/// index, its CIDR and its etcd key name each determine the others. A pool
/// uses at most its first 2^24 blocks (an IPv6 /56 in /120 blocks has 2^64),
/// which keeps every index an `Int` and every scan cheap.
public struct ClusterPool: Sendable, Hashable {
    public var cidr: IPNetwork
    public var blockPrefix: Int

    /// Most blocks one pool uses (2^24).
    public static let maxBlockBits = 24

    /// - Throws: `ConfigFieldError` (field `field`) for a non-canonical CIDR,
    ///   a block prefix shorter than the pool's, or blocks of fewer than 4 addresses.
    public init(cidr: IPNetwork, blockPrefix: Int, field: String = "pool") throws(ConfigFieldError) {
        guard cidr.isCanonical else {
            throw ConfigFieldError(field: "\(field).cidr", problem: "network \(cidr) has host bits set; the network address is \(cidr.lower)")
        }
        let width = cidr.address.bitWidth
        guard blockPrefix >= cidr.prefixLength, blockPrefix <= width - 2 else {
            throw ConfigFieldError(field: "\(field).blockPrefix",
                                     problem: "must be \(cidr.prefixLength)...\(width - 2) for \(cidr), got \(blockPrefix)")
        }
        self.cidr = cidr
        self.blockPrefix = blockPrefix
    }

    public var isIPv4: Bool { cidr.address.isIPv4 }
    public var blockCount: Int { 1 << min(blockPrefix - cidr.prefixLength, Self.maxBlockBits) }
    /// Addresses in one block.
    public var blockSize: UInt64 { UInt64(1) << UInt64(cidr.address.bitWidth - blockPrefix) }

    /// Claim-ahead threshold: when this node's owned blocks of the pool have
    /// fewer free addresses than this, the ADD that notices claims one more
    /// block (best effort, within its budget). An eighth of a block, at least 2
    /// (a /26 block: 8; a /28: 2); at most 2^20 for huge IPv6 blocks.
    public var claimAheadBelow: UInt64 {
        let size = blockSize == 0 ? UInt64(1) << 63 : blockSize
        return min(max(2, size / 8), 1 << 20)
    }

    /// The CIDR of block `index` (0..<blockCount).
    public func block(_ index: Int) -> IPNetwork? {
        guard (0..<blockCount).contains(index), let base = cidr.lower.advanced(by: Int64(index) &* Int64(bitPattern: blockSize)) else {
            return nil
        }
        return IPNetwork(address: base, prefixLength: blockPrefix)
    }

    /// The index of the block that holds `address`, nil outside the pool.
    public func blockIndex(of address: IPAddress) -> Int? {
        guard cidr.contains(address), let d = cidr.lower.distance(to: address), d / blockSize < UInt64(blockCount) else { return nil }
        return Int(d / blockSize)
    }

    /// The index of `block` if it is exactly one of this pool's blocks.
    public func blockIndex(ofBlock block: IPNetwork) -> Int? {
        guard block.prefixLength == blockPrefix, block.isCanonical, let i = blockIndex(of: block.address) else { return nil }
        return i
    }

    /// The first block not in `taken`, scanning from `start` and wrapping, so
    /// nodes that start at different places rarely race for one block.
    public func firstFree(excluding taken: Set<Int>, from start: Int = 0) -> Int? {
        let n = blockCount
        guard taken.count < n else { return nil }
        var i = ((start % n) + n) % n
        for _ in 0..<n {
            if !taken.contains(i) { return i }
            i = (i + 1) % n
        }
        return nil
    }
}
