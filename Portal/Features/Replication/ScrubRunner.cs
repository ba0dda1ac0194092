using Microsoft.EntityFrameworkCore;
using Portal.Features.Jobs.Pipeline;
using Portal.Engine.Replication;
using Quartz;
using Portal.Data;
using Portal.Features.Jobs;
using Portal.Features.Regions;

namespace Portal.Features.Replication;

/// <summary>The scrub of one region.</summary>
public sealed record ScrubInput(string Region);

/// <summary>
/// <see cref="RegionScrub"/> as a job of the pipeline: progress as objects compared of the total, an outcome an operator
/// can act on, the findings in the log. A scrub taken over after an instance died starts again (copies it healed stay healed).
/// </summary>
public sealed class RegionScrubJob(RegionScrub scrub, RegionCatalog regions, ILogger<RegionScrubJob> logger) : JobHandler<ScrubInput>
{
    public override string Name => "scrub";

    public override JobKind Kind => JobKind.Scrub;

    protected override string Noun => "scrub";

    /// <summary>One scrub of a region at a time.</summary>
    public override string ConcurrencyKey(ScrubInput input) => $"scrub/{input.Region}";

    public override async Task<JobOutcome> RunAsync(ScrubInput input, JobRun run, CancellationToken ct)
    {
        var region = input.Region;
        var replicas = regions.Find(region)?.Replicas ?? 0;
        run.Report(new JobProgressReport("Listing replicas", 0, null, 0, null));
        var result = await scrub.RunAsync(region, new Progress(run.ProgressAs("Comparing copies")), ct);
        var report = result.Report;
        if (report.Issues.Count > 0)
            await run.LogAsync(JobLogLevel.Warning, report.Issues.Take(1000).Select(i =>
                $"{i.Name}: replica {i.Replica + 1} {i.Problem}" + (report.Lost.Contains(i.Name) ? "" : " (healed from a good copy)")));
        if (report.Lost.Count > 0)
            await run.LogAsync(JobLogLevel.Error, report.Lost.Take(1000).Select(n => $"{n}: no good copy on any reachable replica."));
        logger.LogInformation("Scrub of region {Region}: {Objects} objects, {Issues} issues, {Healed} healed, {Lost} lost",
            region, report.Objects, report.Issues.Count, report.Healed, report.Lost.Count);

        var summary = $"Compared {report.Objects} object(s) across {replicas} replicas of {region}";
        return (report.Lost.Count, report.UnreachableReplicas.Count) switch
        {
            (0, 0) when report.Issues.Count == 0 => JobOutcome.Completed($"{summary}: every copy matched."),
            (0, 0) => JobOutcome.Completed($"{summary}: healed {report.Healed} of {report.Issues.Count} missing or damaged copies" +
                (report.Healed < report.Issues.Count ? "; the rest are recorded for the repair pass (every minute)." : ".")),
            (var lost, _) when lost > 0 => new JobOutcome(JobStatus.CompletedWithWarnings,
                $"{summary}: {lost} object(s) have no good copy on any reachable replica (listed in the log; an alert names the vaults). " +
                $"Healed {report.Healed} other copies." + Unreachable(report)),
            _ => new JobOutcome(JobStatus.CompletedWithWarnings, $"{summary}: healed {report.Healed} copies." + Unreachable(report)),
        };
    }

    protected override string Cancelled(ScrubInput input) => "Cancelled. Copies it healed stay healed; the next scheduled scrub compares everything again.";

    protected override string? Explain(Exception e, ScrubInput input) => e is Engine.Storage.StoreException or IOException
        ? $"The scrub of {input.Region} stopped: {e.Message} Check that the region's replicas are reachable; the next scheduled scrub tries again."
        : null;

    private static string Unreachable(ScrubReport report) => report.UnreachableReplicas.Count == 0 ? "" :
        $" Replica(s) {string.Join(", ", report.UnreachableReplicas.Select(r => r + 1))} could not be listed and were not compared: " +
        "check that their disk or container is reachable; the next scrub compares them.";

    /// <summary>Objects compared of the total, under the pipeline's throttle (the last one always passes).</summary>
    private sealed class Progress(IProgress<Engine.Progress.OperationProgress> job) : IProgress<ScrubProgress>
    {
        public void Report(ScrubProgress p) =>
            job.Report(new Engine.Progress.OperationProgress(Engine.Progress.OperationPhase.Check, p.Checked, p.Total, 0, 0) { IsFinal = p.Checked == p.Total });
    }
}

/// <summary>Scrubs of regions: every region on the schedule (queued for any instance), or one here and now.</summary>
public sealed class ScrubRunner(JobPipeline pipeline, RegionScrubJob scrubs, RegionCatalog regions, IDbContextFactory<PortalDbContext> dbFactory)
{
    /// <summary>The scheduled run: one scrub job per region, unless one is already waiting for that region.</summary>
    public async Task RunAllAsync(string startedBy, CancellationToken ct)
    {
        foreach (var region in regions.All)
        {
            var input = new ScrubInput(region.Name);
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
                if (await db.Jobs.AnyAsync(j => j.ConcurrencyKey == scrubs.ConcurrencyKey(input) && j.Status == JobStatus.Queued, ct))
                    continue;
            await pipeline.EnqueueAsync(scrubs, input, Target(region.Name), startedBy, ct);
        }
    }

    /// <summary>Scrubs <paramref name="region"/> here and now; returns the finished job's id.</summary>
    public async Task<Guid> RunAsync(string region, string startedBy, CancellationToken ct) =>
        (await pipeline.RunHereAsync(scrubs, new ScrubInput(region), Target(region), startedBy, ct)).Id;

    private static JobTarget Target(string region) => new(null, "", null, $"region {region}");
}

/// <summary>The scheduled scrub of every region, once at a time across every portal instance.</summary>
[DisallowConcurrentExecution]
internal sealed class ScrubJob(ScrubRunner runner) : IJob
{
    public static readonly JobKey Key = new("scrub", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) => await runner.RunAllAsync("schedule", cancellationToken);
}
