using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Features.Drills;

/// <summary>An item's recoverability as its drills prove it: the last drill, the last passing one, and the RTO target in force.</summary>
public sealed record ItemDrillStatus(
    Guid ItemId, DrillResult? LastResult, DateTime? LastDrillAt, string? ProvenSnapshotId, DateTime? ProvenPointCreatedAt, DateTime? ProvenAt,
    TimeSpan? EstimatedFullRestore, TimeSpan? RtoTarget, EffectiveDrillSettings? Settings)
{
    /// <summary>The last drill passed, within <paramref name="maxAge"/> of now.</summary>
    public bool ProvenRecoverable(DateTime nowUtc, TimeSpan maxAge) => LastResult == DrillResult.Passed && ProvenAt >= nowUtc - maxAge;

    /// <summary>Whether the last passing drill's full restore estimate is within the RTO target; null without a target.</summary>
    public bool? RtoMet => RtoTarget is not { } target ? null : EstimatedFullRestore is { } estimate && estimate <= target;

    /// <summary>Drilled on a schedule, or with an RTO target to prove: the items whose drills are expected.</summary>
    public bool Expected => Settings is { } s && (s.Scheduled || s.Settings.RtoTarget is not null);

    /// <summary>"Proven recoverable", "Drill failed", "Not drilled in 30 days", "Never drilled".</summary>
    public string Describe(DateTime nowUtc, TimeSpan maxAge) =>
        ProvenRecoverable(nowUtc, maxAge) ? "Proven recoverable"
        : LastResult == DrillResult.Failed ? "Drill failed"
        : ProvenAt is not null ? $"Not drilled in {maxAge.TotalDays:0} days"
        : "Never drilled";
}

/// <summary>Every item's drill status at once (one query per table), for the Backup center, Reports and alerts.</summary>
public static class DrillCompliance
{
    public static async Task<Dictionary<Guid, ItemDrillStatus>> LoadAsync(PortalDbContext db, CancellationToken ct)
    {
        var settings = await EffectiveDrillSettings.AllAsync(db, ct);
        var latest = await db.RecoveryDrills.AsNoTracking().GroupBy(d => d.ItemId)
            .Select(g => g.OrderByDescending(d => d.FinishedAt).Select(d => new { d.ItemId, d.Result, d.FinishedAt }).First()).ToListAsync(ct);
        var passed = (await db.RecoveryDrills.AsNoTracking().Where(d => d.Result == DrillResult.Passed).GroupBy(d => d.ItemId)
            .Select(g => g.OrderByDescending(d => d.FinishedAt).Select(d => new { d.ItemId, d.SnapshotId, d.PointCreatedAt, d.FinishedAt, d.EstimatedFullRestoreSeconds, d.RtoTargetSeconds }).First())
            .ToListAsync(ct)).ToDictionary(p => p.ItemId);
        var ids = latest.Select(l => l.ItemId).Concat(settings.Keys).ToHashSet();
        var byItem = latest.ToDictionary(l => l.ItemId);
        return ids.ToDictionary(id => id, id =>
        {
            var last = byItem.GetValueOrDefault(id);
            var proven = passed.GetValueOrDefault(id);
            var effective = settings.GetValueOrDefault(id);
            // The target in force now; without one, the target the drill was held to.
            var target = effective?.Settings.RtoTarget ?? (proven?.RtoTargetSeconds is { } s ? TimeSpan.FromSeconds(s) : null);
            return new ItemDrillStatus(id, last?.Result, last?.FinishedAt, proven?.SnapshotId, proven?.PointCreatedAt, proven?.FinishedAt,
                proven is null ? null : TimeSpan.FromSeconds(proven.EstimatedFullRestoreSeconds), target, effective);
        });
    }
}
