// libFuzzer target: the IP address, CIDR and MAC parsers. Whatever parses
// must print as text that parses back to the same value (a round trip), and
// a prefix's network must contain its own address.
import CFuzzer
import Addressing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAddressing(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let a = IPAddress(text) {
        precondition(IPAddress(a.description) == a, "IPAddress round trip: \(text) -> \(a)")
    }
    if let n = IPNetwork(text) {
        precondition(IPNetwork(n.description) == n, "IPNetwork round trip: \(text) -> \(n)")
        precondition(n.contains(n.address), "\(n) must contain its own address")
    }
    if let m = MACAddress(text) {
        precondition(MACAddress(m.description) == m, "MACAddress round trip: \(text) -> \(m)")
    }
    return 0
}

/// SwiftPM points a debug executable's `main` at `fuzz_addressing_main`; hand over to libFuzzer.
@_cdecl("fuzz_addressing_main")
public func fuzzAddressingMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzAddressing(data!, size) }
}
