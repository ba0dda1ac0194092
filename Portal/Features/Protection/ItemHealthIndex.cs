using Microsoft.EntityFrameworkCore;
using Portal.Features.Policies;
using Portal.Data;

namespace Portal.Features.Protection;

/// <summary>An item's health and recovery point objective as of now.</summary>
public sealed record ItemHealthRow(Guid Id, ItemHealth Health, DateTime? LatestPointAt, DateTime CreatedAt, TimeSpan? RpoTarget, TimeSpan? RpoLimit);

/// <summary>
/// Health of many items at once: the few columns health needs, with each policy's definition parsed once (not one
/// jsonb per item). Health depends on the clock and the policy, so it is computed here rather than stored.
/// </summary>
public static class ItemHealthIndex
{
    public static async Task<List<ItemHealthRow>> LoadAsync(PortalDbContext db, IQueryable<BackupItem> items, DateTime nowUtc, CancellationToken ct)
    {
        var limits = await RpoLimitsAsync(db, ct);
        var rows = await items.Select(i => new { i.Id, i.State, i.LastBackupStatus, i.LatestRecoveryPointAt, i.CreatedAt, i.PolicyId }).ToListAsync(ct);
        return rows.ConvertAll(i =>
        {
            var policy = i.PolicyId is { } p ? limits.GetValueOrDefault(p) : null;
            return new ItemHealthRow(i.Id,
                ProtectionRules.Health(i.State, i.LastBackupStatus, i.LatestRecoveryPointAt, i.CreatedAt, policy?.Definition, nowUtc),
                i.LatestRecoveryPointAt, i.CreatedAt, policy?.Target, policy?.Limit);
        });
    }

    public sealed record PolicyRpo(PolicyDefinition Definition, TimeSpan Target, TimeSpan Limit);

    /// <summary>Each policy's RPO target (the schedule's longest gap) and limit (target plus grace).</summary>
    public static async Task<Dictionary<Guid, PolicyRpo>> RpoLimitsAsync(PortalDbContext db, CancellationToken ct)
    {
        var policies = await db.BackupPolicies.AsNoTracking().Select(p => new { p.Id, p.Definition }).ToListAsync(ct);
        return policies.ToDictionary(p => p.Id, p =>
        {
            var definition = PolicyDefinition.FromJson(p.Definition);
            var target = PolicySchedules.RpoTarget(definition.Schedule);
            return new PolicyRpo(definition, target, target + PolicySchedules.RpoGrace(definition.Schedule));
        });
    }
}

/// <summary>RPO compliance: the share of a window during which the item had a recovery point young enough.</summary>
public static class RpoCompliance
{
    public static readonly TimeSpan Window = TimeSpan.FromDays(30);

    /// <summary>
    /// The recovery point times <see cref="Over"/> needs for each of <paramref name="itemIds"/>: the window's points plus
    /// the newest one before it (the age clock at the window's start).
    /// </summary>
    public static async Task<ILookup<Guid, DateTime>> PointTimesAsync(PortalDbContext db, IReadOnlyCollection<Guid> itemIds, DateTime nowUtc, CancellationToken ct)
    {
        var windowStart = nowUtc - Window;
        return (await db.RecoveryPoints.AsNoTracking().Where(p => itemIds.Contains(p.ItemId) && p.CreatedAt >= windowStart)
                .Select(p => new { p.ItemId, p.CreatedAt }).ToListAsync(ct))
            .Concat(await db.RecoveryPoints.AsNoTracking().Where(p => itemIds.Contains(p.ItemId) && p.CreatedAt < windowStart)
                .GroupBy(p => p.ItemId).Select(g => new { ItemId = g.Key, CreatedAt = g.Max(p => p.CreatedAt) }).ToListAsync(ct))
            .ToLookup(p => p.ItemId, p => p.CreatedAt);
    }

    /// <summary>
    /// The fraction (0..1) of [max(now - window, created), now] during which the newest recovery point was at most
    /// <paramref name="limit"/> old. <paramref name="pointTimes"/> are the item's recovery point times (any order; points
    /// before the window count as the starting point). Null when the window is empty (an item created just now).
    /// </summary>
    public static double? Over(IEnumerable<DateTime> pointTimes, DateTime createdAt, TimeSpan limit, DateTime nowUtc, TimeSpan? window = null)
    {
        var start = nowUtc - (window ?? Window);
        if (createdAt > start) start = createdAt;
        var length = nowUtc - start;
        if (length <= TimeSpan.Zero)
            return null;

        var times = pointTimes.Where(t => t <= nowUtc).Order().ToList();
        // The age clock starts at the newest point before the window, else at the item's creation.
        var anchor = times.LastOrDefault(t => t <= start, createdAt);
        var breached = TimeSpan.Zero;
        foreach (var next in times.Where(t => t > start).Append(nowUtc))
        {
            var breachFrom = anchor + limit > start ? anchor + limit : start;
            if (next > breachFrom) breached += next - breachFrom;
            anchor = next;
        }

        return Math.Clamp(1 - breached / length, 0, 1);
    }
}
