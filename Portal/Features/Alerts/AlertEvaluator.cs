using Portal.Features.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Features.Approvals;
using Portal.Features.Protection;
using Portal.Features.Replication;
using Portal.Features.Vaults;

namespace Portal.Features.Alerts;

/// <summary>
/// Every <see cref="AlertOptions.EvaluationInterval"/>, looks at conditions no job reports: items whose RPO is breached
/// (<see cref="ProtectionRules.Health"/> against their policy), GRS vaults whose copy lags more than
/// <see cref="AlertOptions.ReplicationLagThreshold"/>; and resolves what cleared (soft delete on again, data undeleted,
/// requests that expired), and removes resolved alerts older than <see cref="AlertOptions.KeepResolved"/>. Time comes from <see cref="TimeProvider"/>, so tests move a fake clock.
/// </summary>
public sealed class AlertEvaluator(
    IDbContextFactory<PortalDbContext> dbFactory,
    AlertService alerts,
    ReplicationStatus replication,
    DrillAlerts drills,
    IOptionsMonitor<AlertOptions> options,
    TimeProvider clock,
    ILogger<AlertEvaluator> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Periodic.RunAsync(options.CurrentValue.EvaluationInterval, clock, logger, "Evaluating alert conditions", EvaluateAsync, stoppingToken);

    /// <summary>One evaluation of every condition.</summary>
    public async Task EvaluateAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var active = await db.Alerts.AsNoTracking().Where(a => a.State == AlertState.Active)
            .Select(a => new { a.Key, a.Kind, a.Severity, a.ItemId, a.VaultId }).ToListAsync(ct);
        var activeByKey = active.ToDictionary(a => a.Key, a => a.Severity);
        var now = clock.GetUtcNow().UtcDateTime;

        // RPO: no good recovery point within the policy's interval plus its grace; critical beyond twice that.
        var items = await db.BackupItems.AsNoTracking()
            .Select(i => new { i.Id, i.Name, i.VaultId, VaultName = i.Vault!.Name, i.State, i.LatestRecoveryPointAt, i.CreatedAt, i.PolicyId, PolicyName = i.Policy!.Name })
            .ToListAsync(ct);
        var limits = await ItemHealthIndex.RpoLimitsAsync(db, ct); // each policy parsed once, not once per item
        var breached = new HashSet<string>();
        foreach (var item in items.Where(i => i.State == ProtectionState.Protected && i.PolicyId is not null))
        {
            if (!limits.TryGetValue(item.PolicyId!.Value, out var rpo))
                continue;
            var (target, limit) = (rpo.Target, rpo.Limit);
            var age = now - (item.LatestRecoveryPointAt ?? item.CreatedAt);
            if (age <= limit)
                continue; // within target plus grace (ProtectionRules.Health's RPO rule)
            var key = JobAlerts.Key(AlertKinds.RpoBreached, item.Id);
            breached.Add(key);
            var severity = age > 2 * limit ? AlertSeverity.Critical : AlertSeverity.Warning;
            if (activeByKey.TryGetValue(key, out var was) && was >= severity)
                continue; // already said; the count is of problems, not of evaluations
            var latest = item.LatestRecoveryPointAt is { } at ? $"the latest good recovery point is from {at:yyyy-MM-dd HH:mm} UTC" : "it has no recovery point yet";
            await alerts.RaiseAsync(new AlertInput(key, AlertKinds.RpoBreached, severity, $"RPO breached for '{item.Name}'",
                $"Policy {item.PolicyName} promises a recovery point at least every {Hours(target)}; {latest}, {Hours(age)} ago (allowed: {Hours(limit)}).",
                $"Open '{item.Name}' and its latest backup jobs: fix what made them fail or not run (a stopped portal, a missing folder), then run Back up now. " +
                "This alert resolves itself when a backup succeeds.")
            {
                VaultId = item.VaultId, VaultName = item.VaultName, ItemId = item.Id, ItemName = item.Name, Link = $"items/{item.Id}",
            }, ct);
        }

        foreach (var alert in active.Where(a => a.Kind == AlertKinds.RpoBreached && !breached.Contains(a.Key)))
            await alerts.ResolveAsync(alert.Key, items.Any(i => i.Id == alert.ItemId && i.State == ProtectionState.Protected)
                ? "A recovery point within the policy's interval exists again."
                : "The item is no longer protected.", ct);

        await drills.EvaluateAsync(db, [.. active.Where(a => a.Kind == AlertKinds.DrillOverdue).Select(a => a.Key)], ct);
        await EvaluateReplicationAsync(db, active.Where(a => a.Kind == AlertKinds.ReplicationLag).Select(a => a.Key).ToHashSet(), now, ct);

        // Conditions that others change back: soft delete on again, deleted data undeleted, requests that expired.
        var softDeleteOn = await db.Vaults.AsNoTracking().Where(v => v.SoftDeleteEnabled).Select(v => v.Id).ToListAsync(ct);
        var vaultIds = await db.Vaults.AsNoTracking().Select(v => v.Id).ToListAsync(ct);
        foreach (var alert in active.Where(a => a.Kind == AlertKinds.SoftDeleteDisabled && a.VaultId is { } v && (softDeleteOn.Contains(v) || !vaultIds.Contains(v))))
            await alerts.ResolveAsync(alert.Key, "Soft delete is on again (or the vault was deleted).", ct);
        foreach (var alert in active.Where(a => a.Kind == AlertKinds.BackupDataDeleted && a.ItemId is { } i && items.Any(x => x.Id == i && x.State != ProtectionState.SoftDeleted)))
            await alerts.ResolveAsync(alert.Key, "The item's backup data was undeleted.", ct);
        var requested = active.Where(a => a.Kind == AlertKinds.CriticalOperationRequested).ToList();
        if (requested.Count > 0)
        {
            var pending = (await db.ApprovalRequests.AsNoTracking().Where(r => r.Status == ApprovalStatus.Pending && r.ExpiresAt > now).Select(r => r.Id).ToListAsync(ct))
                .Select(CriticalOperationAlerts.RequestKey).ToHashSet();
            foreach (var alert in requested.Where(a => !pending.Contains(a.Key)))
                await alerts.ResolveAsync(alert.Key, "The request expired: nobody decided it within 24 hours.", ct);
        }

        // Housekeeping: resolved alerts past Alerts:KeepResolved go, with their deliveries (never an active one).
        var before = now - options.CurrentValue.KeepResolved;
        await db.Alerts.Where(a => a.State == AlertState.Resolved && a.ResolvedAt < before).ExecuteDeleteAsync(ct);
    }

    private async Task EvaluateReplicationAsync(PortalDbContext db, HashSet<string> lagging, DateTime now, CancellationToken ct)
    {
        var threshold = options.CurrentValue.ReplicationLagThreshold;
        var vaults = await db.Vaults.AsNoTracking().Where(v => v.Redundancy == StorageRedundancy.GRS).Select(v => new { v.Id, v.Name }).ToListAsync(ct);
        var seen = new HashSet<string>();
        foreach (var vault in vaults)
        {
            var key = JobAlerts.Key(AlertKinds.ReplicationLag, vault.Id);
            seen.Add(key);
            if (replication.For(vault.Id) is not { } state)
                continue; // not measured on this instance yet
            var oldest = state.Lag?.OldestUnreplicatedRecoveryPoint;
            var failingFor = state.Error is not null ? now - (state.LastSuccessAt ?? DateTime.MinValue) : TimeSpan.Zero;
            if (oldest > threshold || failingFor > threshold)
            {
                if (lagging.Contains(key))
                    continue;
                var cause = oldest > threshold
                    ? $"The paired region's copy of vault '{vault.Name}' is missing recovery points up to {Hours(oldest.Value)} old ({state.Lag!.Objects:N0} objects, {Portal.Features.Common.Format.Bytes(state.Lag.Bytes)}); the threshold is {Hours(threshold)}."
                    : $"Replication of vault '{vault.Name}' has failed since {(state.LastSuccessAt is { } ok ? $"{ok:yyyy-MM-dd HH:mm} UTC" : "the portal started")}: {state.Error}";
                await alerts.RaiseAsync(new AlertInput(key, AlertKinds.ReplicationLag, AlertSeverity.Warning, $"Replication of vault '{vault.Name}' lags", cause,
                    "Check that the paired region's storage is reachable and has room; the vault page shows the lag. Backups are not affected, " +
                    "but a regional outage now would lose the newest recovery points. This alert resolves itself when the copy catches up.")
                {
                    VaultId = vault.Id, VaultName = vault.Name, Link = $"vaults/{vault.Name}",
                }, ct);
            }
            else if (lagging.Contains(key))
            {
                await alerts.ResolveAsync(key, "The paired region's copy caught up.", ct);
            }
        }

        foreach (var key in lagging.Where(k => !seen.Contains(k)))
            await alerts.ResolveAsync(key, "The vault no longer replicates (deleted, or no longer GRS).", ct);
    }

    private static string Hours(TimeSpan span) =>
        span >= TimeSpan.FromDays(2) ? $"{span.TotalDays:N1} days" : span >= TimeSpan.FromHours(1) ? $"{span.TotalHours:N1} hours" : $"{span.TotalMinutes:N0} minutes";
}
