// libFuzzer target: the CNI result decoder (a prevResult or a delegated
// plugin's answer) and the network config around it. A decoded result must
// encode for every version without a trap, and decode again from its 1.1.0 form.
import CFuzzer
import CNI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCNIResult(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    if let result = try? CNIResult(decoding: bytes) {
        for v in ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] {
            if let version = try? CNIVersion.parse(v) { _ = result.encoded(for: version) }
        }
        if let latest = try? CNIVersion.parse("1.1.0") {
            precondition((try? CNIResult(decoding: result.encoded(for: latest))) != nil,
                         "a decoded result must decode again from its own encoding")
        }
    }
    _ = try? NetworkConfig(decoding: bytes)
    return 0
}

/// SwiftPM points a debug executable's `main` at `fuzz_cni_result_main`; hand over to libFuzzer.
@_cdecl("fuzz_cni_result_main")
public func fuzzCNIResultMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzCNIResult(data!, size) }
}
