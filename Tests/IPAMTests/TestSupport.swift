import Addressing
@testable import IPAM

func ip(_ s: String) -> IPAddress {
    guard let a = IPAddress(s) else { fatalError("bad test address \(s)") }
    return a
}

func net(_ s: String) -> IPNetwork {
    guard let n = IPNetwork(s) else { fatalError("bad test CIDR \(s)") }
    return n
}

func range(_ subnet: String, _ start: String? = nil, _ end: String? = nil, gw: String? = nil) throws -> IPRange {
    try IPRange(subnet: net(subnet), rangeStart: start.map(ip), rangeEnd: end.map(ip), gateway: gw.map(ip))
}

/// A store stand-in: addresses not listed are free.
struct FakePool {
    var state: [IPAddress: Availability] = [:]
    var asked: [IPAddress] = []

    mutating func availability(_ a: IPAddress) -> Availability {
        asked.append(a)
        return state[a] ?? .free
    }
}

/// SplitMix64: a tiny seeded generator, so property tests are reproducible
/// (the failing seed is in the test output) without an external package.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
