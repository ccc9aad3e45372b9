// libFuzzer target: the IPAM config decoder (ranges, routes, limits).
import CFuzzer
import LeaseService
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIPAMConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? IPAMConfig(ipamJSON: Data(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// SwiftPM points a debug executable's `main` at `fuzz_ipam_config_main`; hand over to libFuzzer.
@_cdecl("fuzz_ipam_config_main")
public func fuzzIPAMConfigMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzIPAMConfig(data!, size) }
}
