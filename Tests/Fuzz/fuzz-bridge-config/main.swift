// libFuzzer target: the bridge plugin's network config decoder.
import CFuzzer
import BridgePlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBridgeConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? BridgeConfig(json: Data(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// SwiftPM points a debug executable's `main` at `fuzz_bridge_config_main`; hand over to libFuzzer.
@_cdecl("fuzz_bridge_config_main")
public func fuzzBridgeConfigMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzBridgeConfig(data!, size) }
}
