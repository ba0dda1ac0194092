using Microsoft.EntityFrameworkCore;
using Portal.Features.Policies;
using Microsoft.Extensions.Options;
using Portal.Features.Jobs.Pipeline;
using Quartz;
using Portal.Data;
using Portal.Features.Common;

using Portal.Features.Scheduling;

namespace Portal.Features.Protection;

/// <summary>
/// Keeps Quartz's (clustered, PostgreSQL) triggers in step with the items and their policies: one durable job per
/// item, one cron trigger per scheduled time in the policy's time zone, and one-shot triggers for "Back up now".
/// A trigger that did not fire while every portal was down fires once when one starts (misfire: fire now, then
/// continue), never once per missed slot. Unchanged triggers are left alone, so reconciling never loses a misfire.
/// </summary>
public sealed class ProtectionScheduler(
    ISchedulerFactory schedulers, IDbContextFactory<PortalDbContext> dbFactory, IOptions<ProtectionOptions> options, ILogger<ProtectionScheduler> logger)
{
    public const string BackupGroup = "backup";
    public const string ScheduleGroup = "schedule";
    /// <summary>The group of the one-shot "Back up now" triggers from before the job pipeline (removed at reconcile).</summary>
    private const string OnDemandGroup = "on-demand";
    private static readonly string[] ObsoleteGroups = ["restore", "check", "restore-database"];

    public static JobKey BackupJobKey(Guid itemId) => new(itemId.ToString("N"), BackupGroup);

    /// <summary>Adds, changes or removes the schedule triggers of one item to match its state and policy.</summary>
    public async Task SyncItemAsync(Guid itemId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await db.BackupItems.AsNoTracking().Where(i => i.Id == itemId)
            .Select(i => new { i.Id, i.State, Definition = i.Policy!.Definition }).FirstOrDefaultAsync(ct);
        var scheduler = await schedulers.GetScheduler(ct);
        var desired = item is { State: ProtectionState.Protected, Definition: not null }
            ? PolicyDefinition.FromJson(item.Definition).Schedule
            : null;
        await SyncAsync(scheduler, itemId, desired, ct);
    }

    /// <summary>Reconciles every item's triggers (at start and periodically), and drops triggers of items that are gone.</summary>
    public async Task SyncAllAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var items = await db.BackupItems.AsNoTracking()
            .Select(i => new { i.Id, i.State, Definition = i.Policy!.Definition }).ToListAsync(ct);
        var scheduler = await schedulers.GetScheduler(ct);
        var known = new HashSet<string>();
        foreach (var item in items)
        {
            known.Add(item.Id.ToString("N"));
            var desired = item is { State: ProtectionState.Protected, Definition: not null } ? PolicyDefinition.FromJson(item.Definition).Schedule : null;
            await SyncAsync(scheduler, item.Id, desired, ct);
        }

        foreach (var key in await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(BackupGroup), ct))
            if (!known.Contains(key.Name))
                await scheduler.DeleteJob(key, ct);
        // Before the job pipeline, "Back up now", restores and checks were one-shot Quartz jobs: drop what is left of them.
        foreach (var group in ObsoleteGroups)
            foreach (var key in await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(group), ct))
                await scheduler.DeleteJob(key, ct);
        foreach (var trigger in await scheduler.GetTriggerKeys(GroupMatcher<TriggerKey>.GroupEquals(OnDemandGroup), ct))
            await scheduler.UnscheduleJob(trigger, ct); // their jobs were failed by the JobPipeline migration
        await EnsureRetentionAsync(scheduler, ct);
    }

    /// <summary>The retention run's trigger, at Protection:RetentionCron (UTC).</summary>
    private Task EnsureRetentionAsync(IScheduler scheduler, CancellationToken ct) =>
        CronTriggers.EnsureAsync<RetentionSchedule>(scheduler, RetentionSchedule.Key, options.Value.RetentionCron, ct);

    private async Task SyncAsync(IScheduler scheduler, Guid itemId, Engine.Retention.BackupSchedule? schedule, CancellationToken ct)
    {
        var existing = (await scheduler.GetTriggersOfJob(BackupJobKey(itemId), ct)).Where(t => t.Key.Group == ScheduleGroup).ToList();
        var desired = schedule is null ? [] : PolicySchedules.CronExpressions(schedule);
        var zone = schedule is null ? TimeZoneInfo.Utc : PolicySchedules.Zone(schedule);
        var wanted = desired.Select((cron, i) => (Key: new TriggerKey($"{itemId:N}-{i}", ScheduleGroup), Cron: cron)).ToList();

        foreach (var trigger in existing.Where(t => !wanted.Any(w => w.Key.Equals(t.Key))))
            await scheduler.UnscheduleJob(trigger.Key, ct);
        if (wanted.Count == 0)
            return;
        await EnsureJobAsync(scheduler, itemId, ct);
        foreach (var (key, cron) in wanted)
        {
            var current = existing.OfType<ICronTrigger>().FirstOrDefault(t => t.Key.Equals(key));
            if (current is not null && current.CronExpressionString == cron && current.TimeZone.Id == zone.Id)
                continue; // unchanged: keep it, and with it any misfire it has to catch up on
            var trigger = TriggerBuilder.Create()
                .WithIdentity(key)
                .ForJob(BackupJobKey(itemId))
                .WithCronSchedule(cron, c => c.InTimeZone(zone).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
                .Build();
            try
            {
                if (current is null)
                    await scheduler.ScheduleJob(trigger, new ScheduleJobOptions(), ct);
                else
                    await scheduler.RescheduleJob(key, trigger, ct);
            }
            catch (ObjectAlreadyExistsException)
            {
                logger.LogDebug("Trigger {Trigger} was added by another portal instance meanwhile", key);
            }
        }
    }

    private static async Task EnsureJobAsync(IScheduler scheduler, Guid itemId, CancellationToken ct)
    {
        try
        {
            await scheduler.AddJob(JobBuilder.Create<BackupItemJob>().WithIdentity(BackupJobKey(itemId)).StoreDurably().Build(), new AddJobOptions(), ct);
        }
        catch (ObjectAlreadyExistsException)
        {
        }
    }
}

/// <summary>Reconciles the schedule triggers with the items and policies at start and every few minutes.</summary>
internal sealed class ScheduleReconciler(ProtectionScheduler scheduler, TimeProvider clock, ILogger<ScheduleReconciler> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Periodic.RunAsync(Interval, clock, logger, "Reconciling backup schedules", scheduler.SyncAllAsync, stoppingToken);
}
