import ArgumentParser

extension WatchdogCommand {
    /// `holdfast-watchdog run [options] -- AGENT [ARGS...]`
    /// (with `--action exec`: `run [options] -- COMMAND... -- AGENT [ARGS...]`).
    public struct Run: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Run the agent in a memory cgroup; fence and terminate the host if it is OOM-killed.",
            discussion: """
            With --action exec, the words after the first `--` up to a second `--` are the \
            termination command, and the words after that are the agent: \
            run --action exec -- /usr/local/bin/terminate-me --now -- /usr/bin/agent --flag
            Exit codes: 0 clean stop, 1 agent failed (restart policy gave up), 2 setup error, \
            10 fenced (OOM kill seen now or earlier), 64 usage error.
            """
        )

        @OptionGroup public var paths: PathOptions

        @Option(help: "Run the agent in this existing memory cgroup (e.g. its systemd unit's).")
        public var cgroup: String?

        @Option(help: "Create the agent's cgroup under this parent (default: the v2 root or the v1 memory hierarchy).")
        public var cgroupParent: String?

        @Option(help: "Memory limit for the created cgroup, e.g. 512M, 2G.")
        public var memoryLimit: ByteSize?

        @Option(help: "Termination action after an OOM kill: poweroff, reboot, exec.")
        public var action: ActionKind = .poweroff

        @Flag(help: "Log the decision and the action but do not run it (the fence is still written).")
        public var dryRun = false

        @Option(help: "Seconds the host may stay up after the action (or an action command may run) before a retry.")
        public var actionTimeout: Double = 120

        @Option(help: "First delay in seconds between action retries (doubles, capped by --action-retry-max).")
        public var actionRetryDelay: Double = 5

        @Option(help: "Longest delay in seconds between action retries.")
        public var actionRetryMax: Double = 300

        @Option(help: "Restart policy for exits that are not OOM kills: on-failure or never.")
        public var restart: RestartMode = .onFailure

        @Option(help: "Consecutive restarts before giving up (default 5).")
        public var maxRestarts: Int?

        @Option(help: "First restart delay in seconds (doubles up to --restart-delay-max).")
        public var restartDelay: Double = 1

        @Option(help: "Longest restart delay in seconds.")
        public var restartDelayMax: Double = 60

        @Option(help: "Seconds the agent has to exit after a forwarded TERM/INT before SIGKILL.")
        public var stopTimeout: Double = 10

        @Option(help: "oom_score_adj for the agent (the watchdog protects itself with -1000).")
        public var agentOOMScoreAdj: Int = 0

        @Option(help: "Cluster mode: the network config or conflist with ipam.cluster; the fence is also written to its etcd before the action.")
        public var clusterConfig: String?

        @Argument(parsing: .postTerminator, help: "-- AGENT [ARGS...]")
        public var words: [String] = []

        public init() {}

        /// The agent and the exec action's command, split from `words`.
        public func commands() throws -> (agent: [String], actionCommand: [String]?) {
            guard action == .exec else { return (words, nil) }
            guard let split = words.firstIndex(of: "--") else {
                throw ValidationError("--action exec needs `-- COMMAND... -- AGENT [ARGS...]`")
            }
            let command = Array(words[..<split])
            let agent = Array(words[(split + 1)...])
            guard !command.isEmpty else { throw ValidationError("--action exec: missing the termination COMMAND") }
            return (agent, command)
        }

        public func validate() throws {
            let (agent, _) = try commands()
            guard !agent.isEmpty else {
                throw ValidationError("missing agent command: holdfast-watchdog run [options] -- AGENT [ARGS...]")
            }
            if cgroup != nil && cgroupParent != nil {
                throw ValidationError("--cgroup and --cgroup-parent conflict: watch an existing group or create one, not both")
            }
            if cgroup != nil && memoryLimit != nil {
                throw ValidationError("--memory-limit applies to a created cgroup; set the limit of an existing one where it is managed (e.g. MemoryMax= in its unit)")
            }
            if restart == .never && maxRestarts != nil {
                throw ValidationError("--max-restarts has no meaning with --restart never")
            }
            if let m = maxRestarts, m < 0 { throw ValidationError("--max-restarts must be >= 0") }
            for (name, value) in [("--action-timeout", actionTimeout), ("--action-retry-delay", actionRetryDelay),
                                  ("--action-retry-max", actionRetryMax), ("--restart-delay", restartDelay),
                                  ("--restart-delay-max", restartDelayMax), ("--stop-timeout", stopTimeout)] {
                guard value.isFinite, value > 0 else { throw ValidationError("\(name) must be a positive number of seconds") }
            }
            guard (-1000...1000).contains(agentOOMScoreAdj) else {
                throw ValidationError("--agent-oom-score-adj must be within -1000...1000")
            }
        }

        /// The validated configuration.
        public func supervisorConfig() throws -> SupervisorConfig {
            let (agent, actionCommand) = try commands()
            let termination: TerminationAction
            switch action {
            case .poweroff: termination = .poweroff
            case .reboot: termination = .reboot
            case .exec: termination = .exec(actionCommand ?? [])
            }
            let placement: CgroupPlacement = cgroup.map { .existing($0) }
                ?? .create(parent: cgroupParent, memoryLimit: memoryLimit?.bytes)
            var config = SupervisorConfig(
                agent: agent, placement: placement, fence: FenceFile(path: paths.fence), statePath: paths.state,
                action: termination, dryRun: dryRun, actionTimeout: .seconds(actionTimeout),
                actionBackoff: Backoff(initial: .seconds(actionRetryDelay), maximum: .seconds(actionRetryMax)),
                policy: RestartPolicy(mode: restart, maxRestarts: maxRestarts ?? 5,
                                      backoff: Backoff(initial: .seconds(restartDelay), maximum: .seconds(restartDelayMax))),
                stopTimeout: .seconds(stopTimeout), agentOOMScoreAdj: agentOOMScoreAdj)
            if let clusterConfig {
                do { config.clusterFence = try ClusterFence(configPath: clusterConfig) } catch {
                    throw ValidationError("--cluster-config: \(error)")
                }
            }
            return config
        }

        public func run() throws {
            let code = Supervisor(config: try supervisorConfig()).run()
            if code != 0 { throw ExitCode(code) }
        }
    }
}
