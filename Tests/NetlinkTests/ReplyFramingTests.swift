import Testing
@testable import Netlink

/// The framing check every received buffer passes before libmnl walks it
/// (issue 12; the first case is the fuzz-netlink crash, kept in
/// Tests/Fuzz/regressions/fuzz-netlink/nlmsg-len-0xffffffff.bin).
@Suite struct ReplyFramingTests {
    static func header(length: UInt32, type: UInt16 = 16) -> [UInt8] {
        withUnsafeBytes(of: length.littleEndian) { Array($0) } + withUnsafeBytes(of: type.littleEndian) { Array($0) }
            + [0, 0] + [UInt8](repeating: 0, count: 8)
    }

    static func check(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { (try? ReplyFraming.check($0.baseAddress!, length: $0.count, operation: "test")) != nil }
    }

    @Test func lengthThatWrapsAsSignedIntIsRefused() {
        // A first message of 52 bytes, then one claiming 0xFFFFFFFF: libmnl's
        // mnl_nlmsg_ok accepts it (it compares as int: -1 <= 27).
        let first = Self.header(length: 52, type: 2) + [UInt8](repeating: 0xff, count: 36)
        #expect(!Self.check(first + Self.header(length: 0xFFFF_FFFF) + [0, 0, 0, 0]))
    }

    @Test func lengthsPastTheBufferOrBelowTheHeaderAreRefused() {
        #expect(!Self.check(Self.header(length: 64)))
        #expect(!Self.check(Self.header(length: 8)))
    }

    @Test func wellFramedStreamsPass() {
        let done = Self.header(length: 20, type: 3) + [0, 0, 0, 0]
        #expect(Self.check(Self.header(length: 16) + done))
        #expect(Self.check(done + [0, 0, 0]))   // trailing bytes shorter than a header are ignored
        #expect(Self.check([]))
    }
}
