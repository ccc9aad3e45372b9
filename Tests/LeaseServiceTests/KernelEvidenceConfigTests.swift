import Addressing
import Foundation
import JSONCore
@testable import LeaseService
import Testing

@Suite struct KernelEvidenceConfigTests {
    func decode(_ json: String) throws -> KernelEvidenceConfig {
        try KernelEvidenceConfig(ipam: JSONValue.parse(Data(json.utf8)))
    }

    @Test(arguments: [#"{}"#, #"{"kernelEvidence":null}"#, #"{"kernelEvidence":{}}"#])
    func absentSectionKeepsTheDefaults(json: String) throws {
        #expect(try decode(json) == KernelEvidenceConfig())
    }

    @Test func readsEveryField() throws {
        let c = try decode(#"{"kernelEvidence":{"maxNamespaces":12,"timeoutMs":250,"proofDir":"/run/x"}}"#)
        #expect(c == KernelEvidenceConfig(maxNamespaces: 12, timeout: .milliseconds(250), proofDir: "/run/x"))
    }

    struct Bad: Sendable, CustomStringConvertible {
        var json: String
        var field: String
        /// Expected in the message: the range, or for a type error the path.
        var mentions: String
        var description: String { json }
    }

    @Test(arguments: [
        Bad(json: #"{"kernelEvidence":{"maxNamespaces":0}}"#, field: "ipam.kernelEvidence.maxNamespaces", mentions: "1...1000000"),
        Bad(json: #"{"kernelEvidence":{"timeoutMs":600001}}"#, field: "ipam.kernelEvidence.timeoutMs", mentions: "1...600000"),
        Bad(json: #"{"kernelEvidence":{"proofDir":"rel"}}"#, field: "ipam.kernelEvidence.proofDir", mentions: "absolute path"),
        // Type errors are reported under `ipam` with the path, like every IPAMFields read.
        Bad(json: #"{"kernelEvidence":{"timeoutMs":"5s"}}"#, field: "ipam", mentions: "ipam.kernelEvidence.timeoutMs"),
        Bad(json: #"{"kernelEvidence":{"maxNamespaces":1.5}}"#, field: "ipam", mentions: "ipam.kernelEvidence.maxNamespaces"),
        Bad(json: #"{"kernelEvidence":[1]}"#, field: "ipam", mentions: "ipam.kernelEvidence"),
    ])
    func badSectionNamesTheField(_ bad: Bad) {
        do {
            _ = try decode(bad.json)
            Issue.record("accepted \(bad.json)")
        } catch let error as ConfigFieldError {
            #expect(error.field == bad.field, "\(error)")
            #expect("\(error)".contains(bad.mentions), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// IPAMConfig reads the section from the same parsed object.
    @Test func ipamConfigCarriesTheSection() throws {
        let c = try IPAMConfig(ipamJSON: Data(#"{"ranges":[[{"subnet":"10.0.0.0/24"}]],"kernelEvidence":{"timeoutMs":7}}"#.utf8))
        #expect(c.kernelEvidence.timeout == .milliseconds(7))
    }
}
