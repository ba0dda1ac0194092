using Microsoft.Extensions.Options;
using Portal.Engine.Replication;
using Quartz;

namespace Portal.Features.Replication;

/// <summary>
/// Runs <see cref="RegionScrub"/> as a job per region, with progress (objects compared of the total) and an outcome an
/// operator can act on. Only the job bookkeeping lives here, so the scrub can move onto a generic job pipeline as is.
/// </summary>
public sealed class ScrubRunner(RegionScrub scrub, RegionCatalog regions, JobService jobs, TimeProvider clock, ILogger<ScrubRunner> logger)
{
    /// <summary>The scheduled run: every configured region, one after the other. A region that fails does not stop the others.</summary>
    public async Task RunAllAsync(string startedBy, CancellationToken ct)
    {
        foreach (var region in regions.All)
        {
            try
            {
                await RunAsync(region.Name, startedBy, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Scrub of region {Region} failed", region.Name);
            }
        }
    }

    /// <summary>Scrubs <paramref name="region"/> as a new job; returns the finished job's id.</summary>
    public async Task<Guid> RunAsync(string region, string startedBy, CancellationToken ct)
    {
        var replicas = regions.Find(region)?.Replicas ?? 0;
        var job = await jobs.StartAsync(JobKind.Scrub, null, "", $"region {region}", startedBy, ct);
        var jobId = job.Id;
        var reporter = new JobReporter<ScrubProgress>(p => ReportAsync(jobId, p));
        try
        {
            await jobs.ReportAsync(jobId, "Listing replicas", 0, null, 0, null, ct);
            var result = await scrub.RunAsync(region, new ThrottledProgress<ScrubProgress>(reporter.Report, TimeSpan.FromSeconds(1), clock,
                p => p.Checked == p.Total), ct);
            await reporter.FlushAsync();
            var report = result.Report;
            if (report.Issues.Count > 0)
                await jobs.LogAsync(jobId, JobLogLevel.Warning, report.Issues.Take(1000).Select(i =>
                    $"{i.Name}: replica {i.Replica + 1} {i.Problem}" + (report.Lost.Contains(i.Name) ? "" : " (healed from a good copy)")), CancellationToken.None);
            if (report.Lost.Count > 0)
                await jobs.LogAsync(jobId, JobLogLevel.Error, report.Lost.Take(1000).Select(n => $"{n}: no good copy on any reachable replica."), CancellationToken.None);

            var summary = $"Compared {report.Objects} object(s) across {replicas} replicas of {region}";
            var (status, message) = (report.Lost.Count, report.UnreachableReplicas.Count) switch
            {
                (0, 0) when report.Issues.Count == 0 => (JobStatus.Completed, $"{summary}: every copy matched."),
                (0, 0) => (JobStatus.Completed, $"{summary}: healed {report.Healed} of {report.Issues.Count} missing or damaged copies" +
                    (report.Healed < report.Issues.Count ? "; the rest are recorded for the repair pass (every minute)." : ".")),
                (var lost, _) when lost > 0 => (JobStatus.CompletedWithWarnings,
                    $"{summary}: {lost} object(s) have no good copy on any reachable replica (listed in the log; an alert names the vaults). " +
                    $"Healed {report.Healed} other copies." + Unreachable(report)),
                _ => (JobStatus.CompletedWithWarnings, $"{summary}: healed {report.Healed} copies." + Unreachable(report)),
            };
            await jobs.FinishAsync(jobId, status, message, CancellationToken.None);
            logger.LogInformation("Scrub of region {Region}: {Objects} objects, {Issues} issues, {Healed} healed, {Lost} lost",
                region, report.Objects, report.Issues.Count, report.Healed, report.Lost.Count);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await reporter.FlushAsync();
            await jobs.FinishAsync(jobId, JobStatus.Failed, "The portal stopped while the scrub ran; the next scheduled scrub starts over. Copies it healed stay healed.", CancellationToken.None);
            throw;
        }
        catch (Exception e)
        {
            await reporter.FlushAsync();
            logger.LogError(e, "Scrub of region {Region} failed", region);
            await jobs.FinishAsync(jobId, JobStatus.Failed,
                $"The scrub of {region} stopped: {e.Message} Check that the region's replicas are reachable; the next scheduled scrub tries again.", CancellationToken.None);
        }

        return jobId;
    }

    private static string Unreachable(ScrubReport report) => report.UnreachableReplicas.Count == 0 ? "" :
        $" Replica(s) {string.Join(", ", report.UnreachableReplicas.Select(r => r + 1))} could not be listed and were not compared: " +
        "check that their disk or container is reachable; the next scrub compares them.";

    private async Task ReportAsync(Guid jobId, ScrubProgress p)
    {
        try
        {
            await jobs.ReportAsync(jobId, "Comparing copies", 0, null, p.Checked, p.Total);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogDebug(e, "Progress of job {Job} not recorded", jobId);
        }
    }
}

/// <summary>The scheduled scrub of every region, once at a time across every portal instance.</summary>
[DisallowConcurrentExecution]
internal sealed class ScrubJob(ScrubRunner runner) : IJob
{
    public static readonly JobKey Key = new("scrub", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) => await runner.RunAllAsync("schedule", cancellationToken);
}

/// <summary>Keeps the scrub's Quartz trigger at <see cref="StorageOptions.ScrubCron"/> (UTC); set once when the portal starts.</summary>
internal sealed class ScrubSchedule(ISchedulerFactory schedulers, IOptions<StorageOptions> options, ILogger<ScrubSchedule> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await EnsureAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "The replica scrub could not be scheduled; scrubs do not run until the portal restarts with its database reachable");
        }
    }

    public async Task EnsureAsync(CancellationToken ct)
    {
        var scheduler = await schedulers.GetScheduler(ct);
        var cron = options.Value.ScrubCron;
        var key = new TriggerKey("scrub", ScrubJob.Key.Group);
        if (await scheduler.GetTrigger(key, ct) is ICronTrigger current && current.CronExpressionString == cron)
            return; // unchanged: keep it, and with it any misfire it has to catch up on
        try
        {
            await scheduler.AddJob(JobBuilder.Create<ScrubJob>().WithIdentity(ScrubJob.Key).StoreDurably().Build(), AddJobOptions.Replacing, ct);
            var trigger = TriggerBuilder.Create().WithIdentity(key).ForJob(ScrubJob.Key)
                .WithCronSchedule(cron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)).Build();
            if (await scheduler.Exists(key, ct))
                await scheduler.RescheduleJob(key, trigger, ct);
            else
                await scheduler.ScheduleJob(trigger, new ScheduleJobOptions(), ct);
        }
        catch (ObjectAlreadyExistsException)
        {
            // another instance scheduled it at the same moment
        }
    }
}
