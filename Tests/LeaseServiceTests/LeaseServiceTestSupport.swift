import Foundation
import Addressing
@testable import LeaseService

/// A fresh data directory under /tmp for one test, removed when `body` ends
/// (also when it throws or an expectation fails).
func withDataDirectory<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array("/tmp/holdfast-service-test-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw POSIXError(.EIO)
    }
    let path = String(cString: made)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// A service on a real store in `dataDir` for `ranges` (host-local JSON).
func service(_ dataDir: String, ranges: String = #"[[{"subnet":"10.9.0.0/29"}]]"#,
             extra: String = "") throws -> IPAMService {
    let json = #"{"type":"holdfast-ipam","dataDir":"\#(dataDir)","ranges":\#(ranges)\#(extra)}"#
    return try IPAMService(network: "svc", config: IPAMConfig(ipamJSON: Data(json.utf8)))
}
