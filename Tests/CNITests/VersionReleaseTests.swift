#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing
@testable import CNI

/// The plugins' VERSION answer names the Holdfast release in an extra
/// `"holdfast"` key; the two keys the spec requires stay exactly as before.
@Suite struct VersionReleaseTests {
    @Test func versionResultCarriesTheReleaseOnlyWhenGiven() {
        #expect(String(decoding: VersionResult(cniVersion: "1.0.0", holdfastVersion: "9.8.7").encoded(), as: UTF8.self)
            == #"{"cniVersion":"1.0.0","holdfast":"9.8.7","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}"#)
        #expect(VersionResult(cniVersion: "1.0.0").jsonValue["holdfast"] == nil)
    }

    @Test func dispatcherAddsTheReleaseToVersion() throws {
        let plugin = FakePlugin()
        let fake = FakeIO(#"{"cniVersion":"0.4.0"}"#)
        #expect(CNIDispatcher.run(plugin: plugin, environment: ["CNI_COMMAND": "VERSION"], io: fake.io, release: "9.8.7") == 0)
        let json = try fake.json()
        #expect(json["holdfast"]?.stringValue == "9.8.7")
        #expect(json["cniVersion"]?.stringValue == "0.4.0")
        #expect(json["supportedVersions"]?.arrayValue?.count == 5)
        #expect(plugin.calls.isEmpty)
        #expect(fake.stderr.isEmpty)
    }

    @Test func aboutTextNamesTheReleaseWhenNoCommandIsGiven() {
        let fake = FakeIO()
        #expect(CNIDispatcher.run(plugin: FakePlugin(), environment: [:], io: fake.io, about: "holdfast test", release: "9.8.7") == 1)
        #expect(fake.stderr.contains("holdfast test\nversion 9.8.7\n"))
    }
}
