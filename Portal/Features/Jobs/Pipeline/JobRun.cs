using Portal.Engine.Progress;

namespace Portal.Features.Jobs.Pipeline;

/// <summary>
/// One attempt of a job as its handler sees it: which job and attempt, progress for the engine (throttled, with the
/// last report always delivered) or in the portal's own words, and the job's log. Everything goes through the
/// <see cref="IJobChannel"/> under the attempt's lease, so nothing this run says can land once the job is another's.
/// </summary>
public sealed class JobRun
{
    /// <summary>How often engine progress is passed on while an operation runs (its last report always is).</summary>
    public static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(250);

    private readonly IJobChannel channel;
    private readonly JobProgressTracker tracker;

    internal JobRun(JobLease lease, Job job, IJobChannel channel, JobProgressTracker tracker)
    {
        Lease = lease;
        Job = job;
        this.channel = channel;
        this.tracker = tracker;
        Progress = tracker.Throttled(ReportInterval);
    }

    public JobLease Lease { get; }

    public Guid JobId => Lease.JobId;

    /// <summary>1 for the first run; 2 and more when an earlier attempt was interrupted (look for what it already did).</summary>
    public int Attempt => Lease.Attempt;

    /// <summary>The job as it was claimed (who started it, what it works on).</summary>
    public Job Job { get; }

    /// <summary>Engine progress: at most one report per <see cref="ReportInterval"/>, and always the final one.</summary>
    public IProgress<OperationProgress> Progress { get; }

    /// <summary>Progress counted in engine terms under a phase text of the handler's own, throttled as <see cref="Progress"/> is.</summary>
    public IProgress<OperationProgress> ProgressAs(string phase) => tracker.Throttled(ReportInterval, phase);

    /// <summary>Progress in the portal's own words (a phase the engine does not have).</summary>
    public void Report(JobProgressReport report) => tracker.Report(report);

    /// <summary>Progress counted by the portal under its own phase text, bypassing the throttle (the handler throttles it itself).</summary>
    public void Report(OperationProgress progress, string phase) => tracker.Report(progress, phase);

    public Task LogAsync(JobLogLevel level, IEnumerable<string> lines) => channel.LogAsync(Lease, level, [.. lines], CancellationToken.None);

    public Task LogAsync(JobLogLevel level, string line) => channel.LogAsync(Lease, level, [line], CancellationToken.None);

    /// <summary>Waits until every progress report so far is written (the pipeline does this before the outcome).</summary>
    internal Task FlushAsync() => tracker.FlushAsync();
}
