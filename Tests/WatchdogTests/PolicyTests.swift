import Glibc
import Testing
@testable import Watchdog

@Suite struct BackoffTests {
    @Test func doublesUpToTheCap() {
        let b = Backoff(initial: .milliseconds(100), maximum: .milliseconds(500))
        #expect(b.sequence(6) == [.milliseconds(100), .milliseconds(200), .milliseconds(400),
                                  .milliseconds(500), .milliseconds(500), .milliseconds(500)])
    }

    @Test func maximumBelowInitialIsRaised() {
        #expect(Backoff(initial: .seconds(2), maximum: .seconds(1)).delay(attempt: 5) == .seconds(2))
    }
}

@Suite struct ExitClassifierTests {
    struct Case: Sendable, CustomStringConvertible {
        var exit: AgentExit
        var delta: UInt64
        var expected: ExitOutcome
        var description: String { "\(exit) delta \(delta)" }
    }

    @Test(arguments: [
        Case(exit: .signaled(SIGKILL), delta: 1, expected: .oomKilled),
        Case(exit: .exited(137), delta: 2, expected: .oomKilled),
        Case(exit: .exited(3), delta: 1, expected: .oomKilled),      // died after a kill in its group
        Case(exit: .signaled(SIGKILL), delta: 0, expected: .failed),  // kill -9 by someone
        Case(exit: .signaled(SIGSEGV), delta: 0, expected: .failed),
        Case(exit: .exited(3), delta: 0, expected: .failed),
        Case(exit: .exited(0), delta: 0, expected: .clean),
        Case(exit: .exited(0), delta: 1, expected: .clean),           // a helper was killed, agent chose to exit
    ])
    func classify(_ c: Case) {
        #expect(ExitClassifier.classify(c.exit, oomKillDelta: c.delta) == c.expected)
    }

    @Test func waitStatusDecoding() {
        #expect(AgentExit(waitStatus: 3 << 8) == .exited(3))
        #expect(AgentExit(waitStatus: 9) == .signaled(SIGKILL))
        #expect(AgentExit(waitStatus: 11 | 0x80) == .signaled(SIGSEGV))   // core dumped bit
        #expect(AgentExit(waitStatus: 0x137f) == nil)                      // stopped
    }
}

@Suite struct RestartPolicyTests {
    let policy = RestartPolicy(mode: .onFailure, maxRestarts: 2,
                               backoff: Backoff(initial: .seconds(1), maximum: .seconds(60)),
                               resetAfter: .seconds(60))

    @Test func oomAlwaysFencesEvenWhenStopping() {
        #expect(policy.decide(.oomKilled, restartsSoFar: 0, ranFor: .seconds(1), stopping: false).decision == .fence)
        #expect(policy.decide(.oomKilled, restartsSoFar: 0, ranFor: .seconds(1), stopping: true).decision == .fence)
        var never = policy
        never.mode = .never
        #expect(never.decide(.oomKilled, restartsSoFar: 9, ranFor: .seconds(1), stopping: false).decision == .fence)
    }

    @Test func failuresRestartWithBackoffThenStop() {
        var restarts = 0
        var decisions: [ExitDecision] = []
        for _ in 0..<3 {
            let (d, n) = policy.decide(.failed, restartsSoFar: restarts, ranFor: .seconds(1), stopping: false)
            decisions.append(d)
            restarts = n
        }
        #expect(decisions[0] == .restart(after: .seconds(1), attempt: 1))
        #expect(decisions[1] == .restart(after: .seconds(2), attempt: 2))
        guard case .stop(let code, _) = decisions[2] else { Issue.record("expected stop"); return }
        #expect(code == 1)
    }

    @Test func aLongRunResetsTheCount() {
        let (d, n) = policy.decide(.failed, restartsSoFar: 2, ranFor: .seconds(3600), stopping: false)
        #expect(d == .restart(after: .seconds(1), attempt: 1))
        #expect(n == 1)
    }

    @Test func neverAndCleanAndStopping() {
        var never = policy
        never.mode = .never
        #expect(never.decide(.failed, restartsSoFar: 0, ranFor: .zero, stopping: false).decision
                == .stop(exitCode: 1, reason: "agent failed and --restart never"))
        if case .stop(let code, _) = policy.decide(.clean, restartsSoFar: 0, ranFor: .zero, stopping: false).decision {
            #expect(code == 0)
        } else { Issue.record("clean exit must stop") }
        if case .stop(let code, _) = policy.decide(.failed, restartsSoFar: 0, ranFor: .zero, stopping: true).decision {
            #expect(code == 0)
        } else { Issue.record("a requested stop must not restart") }
    }
}
