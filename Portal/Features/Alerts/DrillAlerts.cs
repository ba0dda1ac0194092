using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Features.Common;
using Portal.Features.Drills;
using Portal.Features.Jobs;
using Portal.Features.Protection;

namespace Portal.Features.Alerts;

/// <summary>
/// Alerts about recoverability: a passing drill whose full restore estimate misses the RTO target (raised when the drill
/// ends), and an item whose drills are expected with no passing drill in <see cref="DrillOptions.DrillMaxAgeDays"/> days
/// (raised by the evaluator). The next passing drill within target resolves both; a failed drill is
/// <see cref="AlertKinds.DrillFailed"/> (<see cref="JobAlerts"/>).
/// </summary>
public sealed class DrillAlerts(IDbContextFactory<PortalDbContext> dbFactory, AlertService alerts, IOptionsMonitor<DrillOptions> options, TimeProvider clock)
    : IJobOutcomeObserver
{
    public async Task JobFinishedAsync(Job job, CancellationToken ct)
    {
        if (job.Kind != JobKind.Drill || job.ItemId is not { } itemId || job.Status == JobStatus.Cancelled)
            return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var drill = await db.RecoveryDrills.AsNoTracking().Where(d => d.JobId == job.Id).FirstOrDefaultAsync(ct);
        if (drill is not { Result: DrillResult.Passed })
            return;
        var reference = $"drill job {job.Id.ToString()[..8]}, {drill.FinishedAt:yyyy-MM-dd HH:mm} UTC";
        await alerts.ResolveAsync(JobAlerts.Key(AlertKinds.DrillOverdue, itemId), $"A drill passed ({reference}).", ct);
        var key = JobAlerts.Key(AlertKinds.RtoMissed, itemId);
        var estimate = TimeSpan.FromSeconds(drill.EstimatedFullRestoreSeconds);
        if (drill.RtoTargetSeconds is { } seconds && estimate > TimeSpan.FromSeconds(seconds))
        {
            var target = TimeSpan.FromSeconds(seconds);
            await alerts.RaiseAsync(new AlertInput(key, AlertKinds.RtoMissed, AlertSeverity.Warning, $"RTO target missed for '{job.Subject}'",
                $"The drill of recovery point {drill.SnapshotId[..8]} ({reference}) restored {drill.Sample} at a speed that puts a full restore of " +
                $"{Format.Bytes(drill.BytesInPoint)} at {Format.Duration(estimate)}; the RTO target is {Format.Duration(target)}.",
                "Restoring faster needs a faster path to the vault's storage or a closer region; or agree a longer RTO target and set it on the item or its policy. " +
                "This alert resolves itself when a drill's estimate is within the target.")
            {
                VaultId = job.VaultId, VaultName = job.VaultName, ItemId = itemId, ItemName = job.Subject, JobId = job.Id, Link = $"items/{itemId}",
            }, ct);
        }
        else
        {
            await alerts.ResolveAsync(key, $"A drill's full restore estimate ({Format.Duration(estimate)}) is within the target ({reference}).", ct);
        }
    }

    /// <summary>Raises "not drilled in N days" for every item whose drills are expected and none passed lately; resolves what cleared.</summary>
    public async Task EvaluateAsync(PortalDbContext db, IReadOnlyCollection<string> activeKeys, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var maxAge = options.CurrentValue.DrillMaxAge;
        var statuses = await DrillCompliance.LoadAsync(db, ct);
        var items = await db.BackupItems.AsNoTracking().Where(i => i.State == ProtectionState.Protected)
            .Select(i => new { i.Id, i.Name, i.VaultId, VaultName = i.Vault!.Name, i.CreatedAt }).ToListAsync(ct);
        var overdue = new HashSet<string>();
        foreach (var item in items)
        {
            if (statuses.GetValueOrDefault(item.Id) is not { Expected: true, Settings: { } settings } status || status.ProvenRecoverable(now, maxAge))
                continue;
            // The clock starts at the last passing drill, or when drills were asked for (never before the item existed).
            var since = status.ProvenAt ?? (settings.ConfiguredAt > item.CreatedAt ? settings.ConfiguredAt : item.CreatedAt);
            if (status.LastResult == DrillResult.Failed || now - since <= maxAge)
                continue; // a failed drill has its own alert (DrillFailed)
            var key = JobAlerts.Key(AlertKinds.DrillOverdue, item.Id);
            overdue.Add(key);
            if (activeKeys.Contains(key))
                continue;
            var last = status.ProvenAt is { } at ? $"its last passing drill was on {at:yyyy-MM-dd HH:mm} UTC" : "it has never passed a drill";
            await alerts.RaiseAsync(new AlertInput(key, AlertKinds.DrillOverdue, AlertSeverity.Warning, $"'{item.Name}' not proven recoverable in {maxAge.TotalDays:0} days",
                $"Drills of '{item.Name}' are expected ({settings.Settings.Describe()}, set on the {settings.Source} by {settings.ConfiguredBy}), " +
                $"but {last}. A scheduled drill did not run (the item had no recovery point, or the portal was down), or the schedule is off.",
                $"Open '{item.Name}' and run a drill now, or check its drill schedule. This alert resolves itself when a drill passes.")
            {
                VaultId = item.VaultId, VaultName = item.VaultName, ItemId = item.Id, ItemName = item.Name, Link = $"items/{item.Id}",
            }, ct);
        }

        foreach (var key in activeKeys.Where(k => k.StartsWith(AlertKinds.DrillOverdue + ":", StringComparison.Ordinal) && !overdue.Contains(k)))
            await alerts.ResolveAsync(key, "A drill passed, or drills of the item are no longer expected.", ct);
    }
}
