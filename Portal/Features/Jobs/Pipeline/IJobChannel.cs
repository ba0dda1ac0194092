namespace Portal.Features.Jobs.Pipeline;

/// <summary>
/// What an executor of jobs calls, in this portal process or (through the agents' connection, later) on another
/// machine: claim a queued job, report progress (which is also the heartbeat), write its log, and finish it. Every
/// call after the claim carries the <see cref="JobLease"/>: once a job was taken over by another executor, the old
/// one's reports and outcome are refused (<see cref="JobControl.Lost"/>, false), so a run that comes back from a long
/// pause can never overwrite the job.
/// </summary>
public interface IJobChannel
{
    /// <summary>Claims the oldest queued job of one of <paramref name="operations"/> whose concurrency key is free; null when none.</summary>
    Task<ClaimedJob?> ClaimAsync(string executor, IReadOnlyCollection<string> operations, CancellationToken ct);

    /// <summary>Records progress and a heartbeat; says whether to go on, to stop because someone cancelled, or that the job is no longer this run's.</summary>
    Task<JobControl> ReportAsync(JobLease lease, JobProgressReport report, CancellationToken ct);

    /// <summary>Adds lines to the job's log (refused silently for a lost lease).</summary>
    Task LogAsync(JobLease lease, JobLogLevel level, IReadOnlyList<string> lines, CancellationToken ct);

    /// <summary>Records the outcome; false when the lease was lost (another executor runs the job now).</summary>
    Task<bool> FinishAsync(JobLease lease, JobOutcome outcome, CancellationToken ct);

    /// <summary>Gives a running job back to the queue (this executor stops): another executor resumes it.</summary>
    Task ReleaseAsync(JobLease lease, string reason, CancellationToken ct);
}

/// <summary>One attempt of one job by one executor.</summary>
public sealed record JobLease(Guid JobId, int Attempt, string Executor);

/// <summary>A job an executor has claimed: what to run, with which input.</summary>
public sealed record ClaimedJob(JobLease Lease, string Operation, string Input);

/// <summary>What the portal answers a progress report.</summary>
public enum JobControl
{
    /// <summary>Go on.</summary>
    Continue,

    /// <summary>Someone asked to cancel: stop and finish as Cancelled.</summary>
    Cancel,

    /// <summary>The job is no longer this run's (taken over, or finished elsewhere): stop without finishing it.</summary>
    Lost,
}
