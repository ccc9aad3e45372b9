import Foundation
import Testing
@testable import Etcd

/// A transport that replays scripted outcomes per endpoint and records what was sent.
final class ScriptedTransport: EtcdTransport {
    enum Outcome { case reply(Int, String), notSent, maybeSent }
    var script: [String: [Outcome]]
    var sent: [(url: String, body: String, timeout: Duration)] = []

    init(_ script: [String: [Outcome]]) { self.script = script }

    func post(url: String, body: String, timeout: Duration) throws(EtcdTransportError) -> EtcdHTTPResponse {
        sent.append((url, body, timeout))
        let key = script.keys.first { url.hasPrefix($0) } ?? url
        guard var outcomes = script[key], !outcomes.isEmpty else { throw .notSent("no script for \(url)") }
        let next = outcomes.removeFirst()
        script[key] = outcomes
        switch next {
        case .reply(let status, let body): return EtcdHTTPResponse(status: status, body: Array(body.utf8))
        case .notSent: throw .notSent("refused")
        case .maybeSent: throw .maybeSent("timed out after sending")
        }
    }
}

let a = "http://a:2379", b = "http://b:2379"
let okPut = #"{"header":{"revision":"7"}}"#
let okRange = #"{"header":{"revision":"9"},"kvs":[{"key":"L2svMQ==","value":"dg==","create_revision":"4","mod_revision":"8","version":"2"}],"count":"1"}"#

func client(_ t: ScriptedTransport, endpoints: [String] = [a, b], timeout: Duration = .seconds(2)) -> EtcdClient {
    EtcdClient(config: EtcdConfig(endpoints: endpoints, timeout: timeout), transport: t)
}

@Suite struct EtcdClientFailoverTests {
    @Test func readDecodesKeysValuesAndRevisions() throws {
        let t = ScriptedTransport([a: [.reply(200, okRange)]])
        let r = try client(t).range("/k/1")
        #expect(r.revision == 9)
        #expect(r.kvs == [EtcdKeyValue(key: "/k/1", value: "v", createRevision: 4, modRevision: 8, version: 2)])
        #expect(t.sent.map(\.url) == ["http://a:2379/v3/kv/range"])
    }

    @Test func writeFailsOverWhenTheFirstEndpointNeverGotIt() throws {
        let t = ScriptedTransport([a: [.notSent], b: [.reply(200, okPut)]])
        let c = client(t)
        #expect(try c.put("/k", "v") == 7)
        #expect(t.sent.map(\.url) == ["http://a:2379/v3/kv/put", "http://b:2379/v3/kv/put"])
        // The endpoint that answered is tried first next time.
        t.script[b] = [.reply(200, okPut)]
        try c.put("/k", "w")
        #expect(t.sent.last?.url == "http://b:2379/v3/kv/put")
    }

    @Test func writeThatMayHaveLandedIsUnknownAndNotRetriedElsewhere() {
        let t = ScriptedTransport([a: [.maybeSent], b: [.reply(200, okPut)]])
        #expect(throws: EtcdError.outcomeUnknown("timed out after sending")) { try client(t).put("/k", "v") }
        #expect(t.sent.count == 1)
    }

    @Test func readMovesOnAfterAnAmbiguousFailure() throws {
        let t = ScriptedTransport([a: [.maybeSent], b: [.reply(200, okRange)]])
        #expect(try client(t).range("/k/1").kvs.count == 1)
        #expect(t.sent.count == 2)
    }

    @Test func everyEndpointDownIsUnreachable() {
        let t = ScriptedTransport([a: [.notSent], b: [.notSent]])
        #expect {
            try client(t).put("/k", "v")
        } throws: { error in
            guard let e = error as? EtcdError, case .unreachable = e else { return false }
            return e.isDefinite
        }
    }

    @Test(arguments: [
        (#"{"error":"etcdserver: request timed out","code":14,"message":"etcdserver: request timed out"}"#, 503, false),
        (#"{"error":"etcdserver: leader changed","code":2,"message":"etcdserver: leader changed"}"#, 503, false),
        (#"{"error":"etcdserver: permission denied","code":7,"message":"etcdserver: permission denied"}"#, 403, true),
        (#"{"error":"etcdserver: duplicate key given in txn request","code":3,"message":"x"}"#, 400, true),
        ("not found", 404, true),
    ])
    func serverErrorsOnWritesAreClassifiedByWhetherTheyMayCommit(body: String, status: Int, definite: Bool) {
        let t = ScriptedTransport([a: [.reply(status, body)], b: [.reply(200, okPut)]])
        do {
            try client(t).put("/k", "v")
            Issue.record("expected an error")
        } catch {
            #expect(error.isDefinite == definite, "\(error)")
            #expect(t.sent.count == 1, "a write is never sent to a second endpoint after an answer")
        }
    }

    @Test func theDeadlineCoversAllEndpoints() {
        final class Slow: EtcdTransport {
            var timeouts: [Duration] = []
            func post(url: String, body: String, timeout: Duration) throws(EtcdTransportError) -> EtcdHTTPResponse {
                timeouts.append(timeout)
                // Burn the whole budget, as a connect timeout would.
                let end = ContinuousClock.now.advanced(by: timeout)
                while ContinuousClock.now < end {}
                throw .notSent("connect timed out")
            }
        }
        let slow = Slow()
        let c = EtcdClient(config: EtcdConfig(endpoints: [a, b, "http://c:2379"], timeout: .milliseconds(50)), transport: slow)
        let start = ContinuousClock.now
        #expect(throws: EtcdError.self) { try c.range("/k") }
        #expect(start.duration(to: .now) < .milliseconds(500))
        #expect(slow.timeouts.count == 1, "no endpoint is tried after the deadline")
        #expect(slow.timeouts.allSatisfy { $0 <= .milliseconds(50) })
    }

    @Test func readOnlyTxnIsRetriedLikeARead() throws {
        let t = ScriptedTransport([a: [.maybeSent], b: [.reply(200, #"{"header":{"revision":"3"},"succeeded":true,"responses":[]}"#)]])
        let r = try client(t).txn(EtcdTxn(compare: [], success: [.range(key: "/k")]))
        #expect(r.succeeded && r.revision == 3)
    }
}

@Suite struct EtcdWireTests {
    @Test func prefixEndIncrementsTheLastByte() {
        #expect(EtcdWire.prefixEnd("/a/") == Array("/a0".utf8))
        #expect(EtcdWire.prefixEnd("") == [0])
    }

    @Test func createIfAbsentTxnUsesTheGatewayFieldNames() throws {
        let t = ScriptedTransport([a: [.reply(200, #"{"header":{"revision":"12"},"succeeded":false,"responses":[{"response_range":{"header":{},"kvs":[{"key":"L2I=","value":"eA==","create_revision":"5","mod_revision":"5","version":"1"}]}}]}"#)]])
        let txn = EtcdTxn(compare: [.absent("/b"), EtcdCompare(key: "/n", .modRevision(4))],
                          success: [.put(key: "/b", value: "x")], failure: [.range(key: "/b")])
        let r = try client(t).txn(txn)
        #expect(!r.succeeded)
        #expect(r.responses == [.range([EtcdKeyValue(key: "/b", value: "x", createRevision: 5, modRevision: 5, version: 1)])])
        let sent = try #require(JSONSerialization.jsonObject(with: Data(t.sent[0].body.utf8)) as? [String: Any])
        let compare = try #require(sent["compare"] as? [[String: Any]])
        #expect(compare[0]["target"] as? String == "CREATE")
        #expect(compare[0]["create_revision"] as? String == "0")
        #expect(compare[0]["key"] as? String == Data("/b".utf8).base64EncodedString())
        #expect(compare[1]["target"] as? String == "MOD")
        let success = try #require(sent["success"] as? [[String: Any]])
        #expect((success[0]["request_put"] as? [String: Any])?["value"] as? String == Data("x".utf8).base64EncodedString())
    }
}
