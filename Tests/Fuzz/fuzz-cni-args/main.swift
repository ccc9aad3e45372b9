// libFuzzer target: CNI_ARGS (`K=V;K=V`) and the rest of the CNI environment
// parser. Arbitrary bytes must give a value or a typed CNIError, never a trap.
import CFuzzer
import CNI

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCNIArgs(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? CNIEnvironment.parseArgs(text)
    let env = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_NETNS": "/run/netns/x",
               "CNI_IFNAME": "eth0", "CNI_PATH": "/usr/lib/cni", "CNI_ARGS": text]
    _ = try? CNIEnvironment.parse(env)
    return 0
}

/// SwiftPM points a debug executable's `main` at `fuzz_cni_args_main`; hand over to libFuzzer.
@_cdecl("fuzz_cni_args_main")
public func fuzzCNIArgsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzCNIArgs(data!, size) }
}
