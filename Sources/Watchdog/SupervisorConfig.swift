/// Where the agent's memory cgroup comes from.
public enum CgroupPlacement: Sendable, Hashable {
    /// Use an existing group (e.g. the agent's systemd unit); never removed.
    case existing(String)
    /// Create `<parent>/holdfast-agent-<watchdog pid>` (parent nil: auto-detect)
    /// with an optional limit; removed when the watchdog exits.
    case create(parent: String?, memoryLimit: UInt64?)
}

/// Everything `run` needs, validated by the command layer.
public struct SupervisorConfig: Sendable {
    public var agent: [String]
    public var placement: CgroupPlacement
    public var fence: FenceFile
    public var statePath: String
    public var action: TerminationAction
    public var dryRun: Bool
    /// How long the host may stay up after a successful action (and how long an
    /// action command may run) before the action is retried.
    public var actionTimeout: Duration
    public var actionBackoff: Backoff
    public var policy: RestartPolicy
    /// After forwarding TERM/INT, how long the agent has before SIGKILL.
    public var stopTimeout: Duration
    /// oom_score_adj for the agent (the watchdog sets its own to -1000 so the
    /// OOM killer picks the agent, never its supervisor).
    public var agentOOMScoreAdj: Int
    /// Cluster mode: also publish the fence to the cluster's etcd before the action.
    public var clusterFence: ClusterFence?

    public init(agent: [String], placement: CgroupPlacement, fence: FenceFile, statePath: String,
                action: TerminationAction, dryRun: Bool, actionTimeout: Duration, actionBackoff: Backoff,
                policy: RestartPolicy, stopTimeout: Duration, agentOOMScoreAdj: Int) {
        self.agent = agent
        self.placement = placement
        self.fence = fence
        self.statePath = statePath
        self.action = action
        self.dryRun = dryRun
        self.actionTimeout = actionTimeout
        self.actionBackoff = actionBackoff
        self.policy = policy
        self.stopTimeout = stopTimeout
        self.agentOOMScoreAdj = agentOOMScoreAdj
    }
}
