using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;
using Quartz;

namespace Portal.Features.Drills;

/// <summary>
/// Keeps Quartz's (clustered, PostgreSQL) drill triggers in step with the drill schedules: one durable job and one UTC
/// cron trigger per drilled item, as <see cref="ProtectionScheduler"/> does for backups. A trigger missed while every
/// portal was down fires once when one starts. Unchanged triggers are left alone.
/// </summary>
public sealed class DrillScheduler(ISchedulerFactory schedulers, IDbContextFactory<PortalDbContext> dbFactory, ILogger<DrillScheduler> logger)
{
    public const string Group = "drill";

    public static JobKey JobKeyOf(Guid itemId) => new(itemId.ToString("N"), Group);

    /// <summary>Items a drill can restore: protected files-and-folders items (of the portal host or a machine) and PostgreSQL items.</summary>
    internal static IQueryable<BackupItem> Drillable(PortalDbContext db) =>
        db.BackupItems.Where(i => i.State == ProtectionState.Protected
                                  && (i.Kind == BackupItemKinds.FilesAndFolders || (i.Kind == BackupItemKinds.PostgreSql && i.MachineId == null)));

    /// <summary>Adds, changes or removes every item's drill trigger to match the schedules in force.</summary>
    public async Task SyncAllAsync(CancellationToken ct = default)
    {
        Dictionary<Guid, string> wanted;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var settings = await EffectiveDrillSettings.AllAsync(db, ct);
            var drillable = await Drillable(db).Select(i => i.Id).ToListAsync(ct);
            wanted = drillable.Where(settings.ContainsKey).Select(id => (id, Cron: settings[id].Settings.Cron()))
                .Where(w => w.Cron is not null).ToDictionary(w => w.id, w => w.Cron!);
        }

        var scheduler = await schedulers.GetScheduler(ct);
        foreach (var key in await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(Group), ct))
            if (!Guid.TryParseExact(key.Name, "N", out var id) || !wanted.ContainsKey(id))
                await scheduler.DeleteJob(key, ct);
        foreach (var (itemId, cron) in wanted)
        {
            try
            {
                await CronTriggers.EnsureAsync<DrillScheduleJob>(scheduler, JobKeyOf(itemId), cron, ct);
            }
            catch (SchedulerException e)
            {
                logger.LogWarning("Scheduling the drills of item {Item} failed: {Reason}", itemId, e.Message);
            }
        }
    }

    /// <summary>When the item's next scheduled drill starts (UTC); null when none is scheduled.</summary>
    public async Task<DateTime?> NextRunAsync(Guid itemId, CancellationToken ct = default)
    {
        var scheduler = await schedulers.GetScheduler(ct);
        var trigger = await scheduler.GetTrigger(new TriggerKey(itemId.ToString("N"), Group), ct);
        return trigger?.NextFireTimeUtc?.UtcDateTime;
    }
}

/// <summary>Scheduled drills: queued for any portal instance, never two of one item at a time.</summary>
public sealed class DrillRuns(IDbContextFactory<PortalDbContext> dbFactory, JobPipeline pipeline, DrillJob drills, MachineDrillJob machineDrills)
{
    /// <summary>
    /// Queues the scheduled drill of an item; nothing when its schedule is off (any more), when it is not drillable or
    /// has no recovery point, or when a drill of it is already queued or running.
    /// </summary>
    public async Task<Job?> EnqueueScheduledAsync(Guid itemId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await DrillScheduler.Drillable(db).AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == itemId, ct);
        if (item is null || await EffectiveDrillSettings.ForItemAsync(db, itemId, ct) is not { Scheduled: true } settings)
            return null;
        if (!await db.RecoveryPoints.AnyAsync(p => p.ItemId == itemId, ct) || await DrillService.BusyAsync(db, itemId, ct))
            return null;
        var target = new JobTarget(item.VaultId, item.Vault!.Name, item.Id, item.Name, item.MachineId);
        return item.MachineId is null
            ? await pipeline.EnqueueAsync(drills, new DrillInput(item.Id), target, $"drill schedule ({settings.Source})", ct)
            : await pipeline.EnqueueAsync(machineDrills, new DrillInput(item.Id), target, $"drill schedule ({settings.Source})", ct);
    }
}

/// <summary>One item's drill schedule: queues the drill (never two of one item at a time; the "not drilled in N days" alert tells of missed slots).</summary>
[DisallowConcurrentExecution]
internal sealed class DrillScheduleJob(DrillRuns runs, ILogger<DrillScheduleJob> logger) : ItemScheduleJob(logger)
{
    protected override string Work => "drill";

    protected override Task QueueAsync(Guid itemId, CancellationToken ct) => runs.EnqueueScheduledAsync(itemId, ct);
}

/// <summary>Reconciles the drill triggers with the schedules at start and every few minutes.</summary>
internal sealed class DrillScheduleReconciler(DrillScheduler scheduler, TimeProvider clock, ILogger<DrillScheduleReconciler> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Periodic.RunAsync(TimeSpan.FromMinutes(5), clock, logger, "Reconciling drill schedules", scheduler.SyncAllAsync, stoppingToken);
}
