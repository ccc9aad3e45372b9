import Addressing

extension MACAddress {
    /// A random unicast, locally administered MAC (the kernel's `eth_random_addr` rule).
    static func randomLocal() -> MACAddress {
        var bytes = [UInt8](repeating: 0, count: 6)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        bytes[0] = (bytes[0] & 0xfe) | 0x02
        return MACAddress(bytes: bytes)!
    }
}
