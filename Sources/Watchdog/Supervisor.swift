#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Runs the agent in its memory cgroup and decides what its death means.
///
/// One thread, one `poll(2)` loop over: a signalfd (TERM/INT/HUP to forward,
/// CHLD for exits) and the OOM notification fd (v1 eventfd or v2 inotify).
/// Nothing sleeps except the restart and action backoffs, which are poll
/// timeouts, so a signal or an exit is handled the moment it arrives.
///
/// The agent is placed in its cgroup *before* it execs: the watchdog spawns
/// `/bin/sh -c 'echo $$ > cgroup.procs; echo ADJ > /proc/self/oom_score_adj;
/// exec "$@"' ...`. The shell's pid is the agent's pid (exec keeps it), the
/// write happens before the agent's first instruction, and posix_spawn stays
/// the only process-creation primitive (no fork from Swift). `clone3` with
/// CLONE_INTO_CGROUP would do the same without the shell, but is v2-only.
///
/// Not Sendable: owned by the thread that calls `run()`.
public final class Supervisor {
    private enum FencePhase {
        case actionRunning(pid: pid_t, deadline: Double, attempt: Int)
        case hostDownWait(until: Double, attempt: Int)
        case retryWait(until: Double, attempt: Int)
    }

    private enum Phase {
        case idle
        case running(pid: pid_t, startedAt: Double, baseline: UInt64)
        case backoff(until: Double)
        case fenced(FencePhase)
    }

    public let config: SupervisorConfig
    private var group: MemoryCgroup?
    private var createdGroup = false
    private var source: OOMSource = .vmstat
    private var watch: OOMWatch?
    private var signalFD: Int32 = -1
    private var phase: Phase = .idle
    private var restarts = 0
    private var stopping = false
    private var stopDeadline: Double?
    private var lastSeenCount: UInt64?
    private var exitCode: Int32?

    private static let handledSignals: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGCHLD]

    public init(config: SupervisorConfig) {
        self.config = config
    }

    /// Supervises until the agent stops for good, the host is fenced and the
    /// watchdog is told to stop, or setup fails. Returns the process exit code
    /// (`WatchdogExit`).
    public func run() -> Int32 {
        do {
            try setUp()
        } catch {
            Log.error(error.exitCode == WatchdogExit.fenced ? "refused_fenced" : "setup_failed",
                      ["error": .string(error.description)])
            tearDown()
            return error.exitCode
        }
        startAgent()
        while exitCode == nil {
            waitForEvents()
        }
        tearDown()
        return exitCode ?? WatchdogExit.ok
    }

    // MARK: setup and teardown

    private func setUp() throws(WatchdogError) {
        // 1. A fenced host never starts the agent, whoever asks.
        let fence = config.fence.read()
        switch fence {
        case .absent: break
        case .fenced(let r):
            throw .fenced(path: config.fence.path, detail: "OOM kill at \(r.time.formatted(.iso8601)) on boot \(r.bootID)")
        case .unreadable(let why):
            throw .fenced(path: config.fence.path, detail: "unreadable marker: \(why)")
        }
        guard let first = config.agent.first,
              Sys.resolveExecutable(first, path: getenv("PATH").map { String(cString: $0) }) != nil else {
            throw .agentNotFound(config.agent.first ?? "")
        }
        // 2. Signals are read from a signalfd only.
        do {
            try Sys.blockSignals(Self.handledSignals)
            signalFD = try Sys.signalfd(Self.handledSignals)
        } catch {
            throw .system(error)
        }
        // 3. The OOM killer must pick the agent, never its supervisor.
        do { try Sys.writeControl("/proc/self/oom_score_adj", "-1000") } catch {
            Log.warning("oom_score_adj_unset", ["error": .string(error.description)])
        }
        // 4. The cgroup and its OOM notification.
        switch config.placement {
        case .existing(let path):
            group = try MemoryCgroup.existing(path)
        case .create(let parent, let limit):
            if let parent = parent ?? MemoryCgroup.defaultParent() {
                group = try MemoryCgroup.create(under: parent, name: "holdfast-agent-\(getpid())", memoryLimit: limit)
                createdGroup = true
            } else {
                Log.warning("no_memory_cgroup", ["detail": "no memory cgroup hierarchy found; agent runs in the watchdog's cgroup"])
            }
        }
        source = OOMSource(group)
        if case .vmstat = source {
            Log.warning("oom_detection_fallback", [
                "source": "/proc/vmstat",
                "detail": "neither cgroup v2 memory.events nor v1 memory.oom_control is available; using the host-wide oom_kill counter, checked at agent exit (no notification)",
            ])
        }
        watch = try OOMWatch(source)
        lastSeenCount = try? source.oomKills()
        Log.info("watching", [
            "cgroup": group.map { .string($0.path) } ?? .null,
            "cgroup_version": group.map { .string($0.version.rawValue) } ?? .null,
            "created": .bool(createdGroup),
            "oom_source": .string(source.name),
            "oom_kills": lastSeenCount.map { .int(Int64($0)) } ?? .null,
            "fence": .string(config.fence.path),
            "action": .string(config.action.name),
            "dry_run": .bool(config.dryRun),
        ])
    }

    private func tearDown() {
        if case .running(let pid, _, _) = phase {
            _ = kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
        watch?.close()
        watch = nil
        if createdGroup, let group {
            if !group.killAllAndRemove() {
                Log.warning("cgroup_not_removed", ["cgroup": .string(group.path)])
            }
        }
        if signalFD >= 0 { Sys.close(signalFD) }
        signalFD = -1
        publishState()
    }

    // MARK: the event loop

    private func waitForEvents() {
        var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
        if let fd = watch?.fd { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        let timeout: Int32
        if let deadline = nextDeadline() {
            timeout = Int32(max(0, min(3_600_000, ((deadline - Sys.monotonicSeconds()) * 1000).rounded(.up))))
        } else {
            timeout = -1
        }
        let n = poll(&fds, nfds_t(fds.count), timeout)
        if n < 0 && errno != EINTR {
            Log.error("poll_failed", ["error": .string(SystemError.last("poll").description)])
            exitCode = WatchdogExit.setupFailed
            return
        }
        if fds.count > 1 && fds[1].revents != 0 { onOOMNotification() }
        if fds[0].revents != 0 { readSignals() }
        if exitCode == nil { fireTimers() }
    }

    private func nextDeadline() -> Double? {
        var deadlines: [Double] = []
        if let stopDeadline { deadlines.append(stopDeadline) }
        switch phase {
        case .backoff(let until): deadlines.append(until)
        case .fenced(.actionRunning(_, let d, _)): deadlines.append(d)
        case .fenced(.hostDownWait(let until, _)), .fenced(.retryWait(let until, _)): deadlines.append(until)
        default: break
        }
        return deadlines.min()
    }

    private func readSignals() {
        var record = [UInt8](repeating: 0, count: 128)   // sizeof(struct signalfd_siginfo)
        while true {
            let n = record.withUnsafeMutableBytes { read(signalFD, $0.baseAddress, $0.count) }
            guard n == 128 else { break }
            let signo = record.withUnsafeBytes { Int32(bitPattern: $0.load(fromByteOffset: 0, as: UInt32.self)) }
            switch signo {
            case SIGCHLD: reapChildren()
            case SIGHUP: forward(SIGHUP)
            default: onStopSignal(signo)
            }
        }
    }

    private func onStopSignal(_ signo: Int32) {
        Log.info("signal_received", ["signal": .string(AgentExit.signalName(signo))])
        switch phase {
        case .running:
            if !stopping {
                stopping = true
                stopDeadline = Sys.monotonicSeconds() + config.stopTimeout.seconds
            }
            forward(signo)
        case .fenced:
            // Stay fenced: the marker stays, the agent stays down; the action
            // retries end with this process (a restarted watchdog refuses to run).
            Log.warning("stopping_while_fenced", ["fence": .string(config.fence.path)])
            exitCode = WatchdogExit.fenced
        case .idle, .backoff:
            Log.info("stopped", ["reason": "signal while the agent was not running"])
            exitCode = WatchdogExit.ok
        }
    }

    private func forward(_ signo: Int32) {
        guard case .running(let pid, _, _) = phase else { return }
        _ = kill(pid, signo)
        Log.info("signal_forwarded", ["signal": .string(AgentExit.signalName(signo)), "pid": .int(Int64(pid))])
    }

    private func reapChildren() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            guard let exit = AgentExit(waitStatus: status) else { continue }
            switch phase {
            case .running(let agentPID, let startedAt, let baseline) where pid == agentPID:
                onAgentExit(exit, startedAt: startedAt, baseline: baseline)
            case .fenced(.actionRunning(let actionPID, _, let attempt)) where pid == actionPID:
                onActionExit(exit, attempt: attempt)
            default:
                break   // an orphan re-parented to us, or a leftover
            }
        }
    }

    private func onOOMNotification() {
        watch?.drain()
        // v1 signals the eventfd when the group hits OOM, which can be just
        // before the kill is counted; the decision itself waits for the exit.
        let count = try? source.oomKills()
        var pid: LogValue = .null
        if case .running(let p, _, _) = phase { pid = .int(Int64(p)) }
        Log.warning("oom_event", ["oom_kills": count.map { .int(Int64($0)) } ?? .null, "agent_pid": pid,
                                  "cgroup": group.map { .string($0.path) } ?? .null])
        if let count { lastSeenCount = count }
    }

    private func fireTimers() {
        let now = Sys.monotonicSeconds()
        if let d = stopDeadline, now >= d, case .running(let pid, _, _) = phase {
            Log.warning("stop_timeout", ["pid": .int(Int64(pid)), "detail": "agent ignored the stop signal; sending SIGKILL"])
            _ = kill(pid, SIGKILL)
            stopDeadline = nil
        }
        switch phase {
        case .backoff(let until) where now >= until:
            startAgent()
        case .fenced(.actionRunning(let pid, let deadline, let attempt)) where now >= deadline:
            Log.error("action_timeout", ["pid": .int(Int64(pid)), "attempt": .int(Int64(attempt))])
            _ = kill(pid, SIGKILL)
            scheduleActionRetry(after: attempt)
        case .fenced(.hostDownWait(let until, let attempt)) where now >= until:
            Log.error("host_still_up", ["attempt": .int(Int64(attempt)), "waited_s": .double(config.actionTimeout.seconds)])
            scheduleActionRetry(after: attempt)
        case .fenced(.retryWait(let until, let attempt)) where now >= until:
            startAction(attempt: attempt)
        default:
            break
        }
    }

    // MARK: the agent

    private func startAgent() {
        let baseline: UInt64
        do { baseline = try source.oomKills() } catch {
            Log.error("setup_failed", ["error": .string(error.description)])
            exitCode = WatchdogExit.setupFailed
            return
        }
        // Re-check the fence: a second watchdog may have fenced meanwhile.
        if config.fence.read().isFenced {
            Log.error("refused_fenced", ["fence": .string(config.fence.path)])
            exitCode = WatchdogExit.fenced
            return
        }
        let script = #"echo $$ > "$1" || exit 126; echo "$2" > /proc/self/oom_score_adj || exit 126; shift 2; exec "$@""#
        let argv = ["/bin/sh", "-c", script, "holdfast-agent", group?.procsPath ?? "/dev/null",
                    String(config.agentOOMScoreAdj)] + config.agent
        do {
            let pid = try Sys.spawn(argv)
            phase = .running(pid: pid, startedAt: Sys.monotonicSeconds(), baseline: baseline)
            Log.info("agent_started", ["pid": .int(Int64(pid)), "agent": .strings(config.agent),
                                       "restarts": .int(Int64(restarts)), "oom_kills": .int(Int64(baseline))])
        } catch {
            Log.error("agent_spawn_failed", ["error": .string(error.description)])
            exitCode = WatchdogExit.agentFailed
        }
        publishState()
    }

    private func onAgentExit(_ exit: AgentExit, startedAt: Double, baseline: UInt64) {
        let decidedAt = Sys.monotonicSeconds()
        stopDeadline = nil
        var count = baseline
        do { count = try source.oomKills() } catch {
            // Without the counter, a SIGKILL is presumed to be the OOM killer's.
            Log.warning("oom_counter_unreadable", ["error": .string(error.description)])
            if ExitClassifier.looksLikeOOMKill(exit) { count = baseline + 1 }
        }
        let delta = count >= baseline ? count - baseline : 0
        let outcome = ExitClassifier.classify(exit, oomKillDelta: delta)
        lastSeenCount = count
        let ranFor = Duration.seconds(decidedAt - startedAt)
        let (decision, newRestarts) = config.policy.decide(outcome, restartsSoFar: restarts, ranFor: ranFor, stopping: stopping)
        restarts = newRestarts
        Log.info("agent_exited", ["exit": .string(exit.description), "outcome": .string("\(outcome)"),
                                  "oom_kills": .int(Int64(count)), "oom_kill_delta": .int(Int64(delta)),
                                  "ran_s": .double(decidedAt - startedAt)])
        switch decision {
        case .fence:
            phase = .idle
            fenceHost(exit: exit, count: count, delta: delta, decidedAt: decidedAt)
        case .restart(let delay, let attempt):
            phase = .backoff(until: Sys.monotonicSeconds() + delay.seconds)
            Log.info("restart_scheduled", ["attempt": .int(Int64(attempt)), "delay_s": .double(delay.seconds),
                                           "max_restarts": .int(Int64(config.policy.maxRestarts))])
            publishState()
        case .stop(let code, let reason):
            phase = .idle
            Log.info("stopped", ["reason": .string(reason), "exit_code": .int(Int64(code))])
            exitCode = code
        }
    }

    // MARK: the fence and the termination action

    private func fenceHost(exit: AgentExit, count: UInt64, delta: UInt64, decidedAt: Double) {
        let record = FenceRecord(time: Date(), agent: config.agent, cgroup: group?.path, oomCount: count,
                                 exit: exit.description, bootID: HostIdentity.bootID(),
                                 hostname: HostIdentity.hostname(), watchdogPID: getpid())
        var fenceError: LogValue = .null
        do { try config.fence.write(record) } catch {
            // Keep going: the in-memory fence still holds and the host is about to go.
            fenceError = .string("\(error)")
        }
        // Cluster mode: publish the fence before any action, so reclaim waits from here.
        var clusterFence: LogValue = .null, clusterFenceError: LogValue = .null
        if let cf = config.clusterFence {
            let timeout = config.actionTimeout.components
            do {
                clusterFence = .string(try cf.publish(bootID: record.bootID, actionTimeoutSeconds: max(1, timeout.seconds + (timeout.attoseconds > 0 ? 1 : 0)),
                                                      reason: "OOM kill of the agent (\(exit.description))"))
            } catch {
                clusterFenceError = .string("\(error)")
            }
        }
        phase = .fenced(.retryWait(until: 0, attempt: 0))
        Log.emit(.error, "agent_oom_killed", [
            "decision": "terminate-host",
            "exit": .string(exit.description),
            "strict_oom_signature": .bool(ExitClassifier.looksLikeOOMKill(exit)),
            "oom_kills": .int(Int64(count)),
            "oom_kill_delta": .int(Int64(delta)),
            "oom_source": .string(source.name),
            "cgroup": group.map { .string($0.path) } ?? .null,
            "decided_mono": .double(decidedAt),
            "fence": .string(config.fence.path),
            "fence_error": fenceError,
            "cluster_fence": clusterFence,
            "cluster_fence_error": clusterFenceError,
            "action": .string(config.action.name),
            "dry_run": .bool(config.dryRun),
        ])
        publishState()
        if config.dryRun {
            Log.warning("action_dry_run", ["action": .string(config.action.name),
                                            "command": config.action.command(systemd: HostIdentity.systemdIsInit()).map { .strings($0) } ?? "reboot(2)"])
            exitCode = WatchdogExit.fenced
            return
        }
        startAction(attempt: 1)
    }

    private func startAction(attempt: Int) {
        let systemd = HostIdentity.systemdIsInit()
        guard let argv = config.action.command(systemd: systemd) else {
            // No systemd: ask the kernel directly. On success this never returns.
            Log.warning("action_started", ["action": .string(config.action.name), "via": "reboot(2)", "attempt": .int(Int64(attempt))])
            sync()
            let rc = Sys.reboot(config.action == .reboot ? Int32(bitPattern: 0x0123_4567) : Int32(bitPattern: 0x4321_FEDC))
            Log.error("action_failed", ["error": .string(rc == 0 ? "returned" : SystemError.last("reboot").description),
                                        "attempt": .int(Int64(attempt))])
            scheduleActionRetry(after: attempt)
            return
        }
        do {
            let pid = try Sys.spawn(argv)
            phase = .fenced(.actionRunning(pid: pid, deadline: Sys.monotonicSeconds() + config.actionTimeout.seconds, attempt: attempt))
            Log.warning("action_started", ["action": .string(config.action.name), "command": .strings(argv),
                                            "pid": .int(Int64(pid)), "attempt": .int(Int64(attempt))])
        } catch {
            Log.error("action_failed", ["error": .string(error.description), "attempt": .int(Int64(attempt))])
            scheduleActionRetry(after: attempt)
        }
    }

    private func onActionExit(_ exit: AgentExit, attempt: Int) {
        if exit == .exited(0) {
            let until = Sys.monotonicSeconds() + config.actionTimeout.seconds
            phase = .fenced(.hostDownWait(until: until, attempt: attempt))
            Log.warning("action_succeeded", ["attempt": .int(Int64(attempt)), "waiting_s": .double(config.actionTimeout.seconds)])
        } else {
            Log.error("action_failed", ["exit": .string(exit.description), "attempt": .int(Int64(attempt))])
            scheduleActionRetry(after: attempt)
        }
    }

    private func scheduleActionRetry(after attempt: Int) {
        let delay = config.actionBackoff.delay(attempt: attempt - 1)
        phase = .fenced(.retryWait(until: Sys.monotonicSeconds() + delay.seconds, attempt: attempt + 1))
        Log.warning("action_retry_scheduled", ["attempt": .int(Int64(attempt + 1)), "delay_s": .double(delay.seconds)])
    }

    // MARK: status

    private func publishState() {
        var pid: Int32?
        let name: String
        switch phase {
        case .idle: name = exitCode == nil ? "starting" : "stopped"
        case .running(let p, _, _): pid = p; name = stopping ? "stopping" : "running"
        case .backoff: name = "backoff"
        case .fenced: name = "fenced"
        }
        let state = SupervisorState(watchdogPID: getpid(), phase: name, agentPID: pid, agent: config.agent,
                                    cgroup: group?.path, oomSource: source.name, oomKills: (try? source.oomKills()) ?? lastSeenCount,
                                    restarts: restarts, updated: Date())
        do { try Sys.writeFileDurably(config.statePath, try state.encoded()) } catch {
            Log.warning("state_not_written", ["path": .string(config.statePath), "error": .string("\(error)")])
        }
    }
}

extension Duration {
    /// This duration in (fractional) seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    static func seconds(_ value: Double) -> Duration {
        .nanoseconds(Int64((value * 1e9).rounded()))
    }
}
