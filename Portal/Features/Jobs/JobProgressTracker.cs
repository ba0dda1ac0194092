using Portal.Engine.Progress;

namespace Portal.Features.Jobs;

/// <summary>
/// Turns engine progress into job reports with a smoothed rate (an ETA that does not jump around), re-sends the
/// latest report as a heartbeat, and notices a cancel asked on another portal instance (the report sees Cancelling).
/// </summary>
public sealed class JobProgressTracker(Pipeline.JobLease lease, Pipeline.IJobChannel channel, TimeProvider clock, JobCancellation.Registration registration, ILogger logger)
{
    private readonly Lock gate = new();
    private readonly JobReporter<JobProgressReport> reporter = new(async r =>
    {
        try
        {
            switch (await channel.ReportAsync(lease, r, CancellationToken.None))
            {
                case Pipeline.JobControl.Cancel:
                    registration.Cancel();
                    break;
                case Pipeline.JobControl.Lost:
                    registration.Lose(); // another executor runs it now: stop without touching the job
                    break;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogDebug(e, "Progress of job {Job} not recorded", lease.JobId);
        }
    });
    private JobProgressReport? last;
    private long lastTimestamp;
    private long lastBytes;
    private double? rate;

    /// <summary>A report made by the portal itself (a phase the engine does not know of, like "Removing expired recovery points").</summary>
    public void Report(JobProgressReport report)
    {
        lock (gate)
            last = report;
        reporter.Report(report);
    }

    public void Report(OperationProgress p) => Report(p, Phase(p.Phase));

    /// <summary>Reports <paramref name="p"/> under a phase text of the caller's own (work the engine does not do).</summary>
    public void Report(OperationProgress p, string phase)
    {
        JobProgressReport report;
        lock (gate)
        {
            var now = clock.GetTimestamp();
            if (lastTimestamp != 0)
            {
                var seconds = clock.GetElapsedTime(lastTimestamp, now).TotalSeconds;
                if (seconds >= 0.2 && p.BytesDone >= lastBytes)
                {
                    var instant = (p.BytesDone - lastBytes) / seconds;
                    rate = rate is { } r ? 0.8 * r + 0.2 * instant : instant; // smoothed: an ETA that does not jump around
                    (lastTimestamp, lastBytes) = (now, p.BytesDone);
                }
            }
            else
            {
                (lastTimestamp, lastBytes) = (now, p.BytesDone);
            }

            report = last = new JobProgressReport(phase, p.BytesDone, p.BytesTotal > 0 ? p.BytesTotal : null, p.FilesDone,
                p.FilesTotal > 0 ? p.FilesTotal : null, p.CurrentPath, rate);
        }

        reporter.Report(report);
    }

    /// <summary>Re-sends the latest report every heartbeat interval so that a long quiet stretch is not taken for a dead portal.</summary>
    public IDisposable StartHeartbeat(TimeSpan interval) => clock.CreateTimer(_ =>
    {
        JobProgressReport? report;
        lock (gate)
            report = last;
        reporter.Report(report ?? new JobProgressReport("Starting", 0, null, 0, null));
    }, null, interval, interval);

    /// <summary>The engine-facing progress: at most one report per <paramref name="interval"/>, and always the operation's final one.</summary>
    public IProgress<OperationProgress> Throttled(TimeSpan interval, string? phase = null) =>
        new ThrottledProgress<OperationProgress>(p => Report(p, phase ?? Phase(p.Phase)), interval, clock, p => p.IsFinal);

    public Task FlushAsync() => reporter.FlushAsync();

    private static string Phase(OperationPhase engine) => engine switch
    {
        OperationPhase.Key => "Opening the vault",
        OperationPhase.Scan => "Scanning",
        OperationPhase.Read => "Transferring data",
        OperationPhase.Finish => "Finishing",
        OperationPhase.Restore => "Restoring files",
        OperationPhase.Check => "Checking",
        OperationPhase.Prune => "Freeing space",
        OperationPhase.Forget => "Removing recovery points",
        OperationPhase.Diff => "Comparing recovery points",
        OperationPhase.List => "Listing items",
        OperationPhase.Snapshots => "Listing recovery points",
        _ => engine.ToString(),
    };
}
