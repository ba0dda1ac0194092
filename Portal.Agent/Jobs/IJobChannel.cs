using Portal.Engine;
using Portal.Engine.Agents;

namespace Portal.Agent.Jobs;

/// <summary>Where a running job's progress and log lines go (the portal's hub, or a test's recorder).</summary>
internal interface IJobChannel
{
    /// <summary>Reports progress (the job's heartbeat); the answer says whether to go on, cancel, or stop because the lease is lost.</summary>
    Task<AgentControl> ReportAsync(AgentProgress progress, CancellationToken ct);

    /// <summary>Adds lines to the job's log.</summary>
    Task LogAsync(AgentLogLevel level, IReadOnlyList<string> lines, CancellationToken ct);
}

/// <summary>Opens a machine's repository: this machine's own, or another's under a restore's grant.</summary>
internal interface IRepositoryOpener
{
    /// <summary>Opens the repository of <paramref name="sourceMachine"/> (null: this machine's) with its key.</summary>
    Task<BackupEngine> OpenAsync(Guid? sourceMachine, RepositoryKey key, CancellationToken ct);
}
