// libFuzzer target: the netlink reply decoders over arbitrary bytes. The
// input is walked as a stream of netlink messages (mnl_nlmsg_ok/next, as a
// receive buffer is) and every message is decoded as a link, an address, a
// route and a neighbour, and its payload as raw attributes (an extack),
// after the framing check NetlinkSocket applies to every received buffer.
import CFuzzer
import CMnl
@testable import Netlink

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetlink(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // As NetlinkSocket's receive buffer: 8-byte aligned, with zeroed slack after
    // the data: libmnl bounds attributes by MNL_ALIGN(nlmsg_len), up to 3 bytes
    // past an unaligned last message (regressions/fuzz-netlink/unaligned-tail.bin
    // read past an exact-size copy; NetlinkSocket now keeps 4 bytes of slack).
    let capacity = (size + 3) & ~3
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 4), alignment: 8)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0, count: max(capacity, 4))
    buffer.copyMemory(from: data, byteCount: size)
    // As NetlinkSocket does after every recvmsg: refuse a buffer libmnl would misframe.
    guard (try? ReplyFraming.check(buffer, length: size, operation: "fuzz")) != nil else { return 0 }
    var remaining = Int32(size)
    var next: UnsafePointer<nlmsghdr>? = UnsafePointer(buffer.assumingMemoryBound(to: nlmsghdr.self))
    while let nlh = next, mnl_nlmsg_ok(nlh, remaining) {
        _ = try? Link(message: nlh)
        _ = try? InterfaceAddress(message: nlh)
        _ = try? Route(message: nlh)
        _ = try? Neighbour(message: nlh)
        let length = Int(nlh.pointee.nlmsg_len) - MemoryLayout<nlmsghdr>.size
        if length > 0 {
            let table = AttributeTable(payload: UnsafeRawPointer(mnl_nlmsg_get_payload(nlh)!), length: length)
            for type in 0..<8 { _ = table.string(type); _ = table.u32(type); _ = table.nested(type)?.u8(1) }
        }
        next = UnsafePointer(mnl_nlmsg_next(nlh, &remaining))
    }
    return 0
}

/// SwiftPM points a debug executable's `main` at `fuzz_netlink_main`; hand over to libFuzzer.
@_cdecl("fuzz_netlink_main")
public func fuzzNetlinkMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzNetlink(data!, size) }
}
