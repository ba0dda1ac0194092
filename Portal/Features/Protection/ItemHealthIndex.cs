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
    public static async Task<List<ItemHealthRow>> LoadAsync(PortalDbContext db, IQueryable<BackupItem> items, DateTime nowUtc, CancellationToken ct) =>
        await LoadAsync(db, items, await RpoLimitsAsync(db, ct), nowUtc, ct);

    /// <summary>The same, with the policies' limits already loaded (<see cref="RpoLimitsAsync"/>).</summary>
    public static async Task<List<ItemHealthRow>> LoadAsync(PortalDbContext db, IQueryable<BackupItem> items, IReadOnlyDictionary<Guid, PolicyRpo> limits, DateTime nowUtc, CancellationToken ct)
    {
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
    /// <see cref="Over"/> for many items at once, computed in PostgreSQL (issue 25: loading every point time of 10,000
    /// items took most of the Backup center's 3 s): each item's limit is its policy's (<paramref name="limits"/>), and only
    /// one row per item comes back. Items without a policy in <paramref name="limits"/> are left out; an item whose window
    /// is empty maps to null.
    /// </summary>
    public static async Task<Dictionary<Guid, double?>> OverManyAsync(
        PortalDbContext db, IReadOnlyCollection<Guid> itemIds, IReadOnlyDictionary<Guid, ItemHealthIndex.PolicyRpo> limits, DateTime nowUtc, CancellationToken ct)
    {
        if (itemIds.Count == 0 || limits.Count == 0)
            return [];
        var ids = itemIds.ToArray();
        var policyIds = limits.Keys.ToArray();
        var limitSeconds = policyIds.Select(p => limits[p].Limit.TotalSeconds).ToArray();
        var windowStart = nowUtc - Window;
        // Per item: the window starts at max(now - 30 days, created); the age clock starts at the newest point at or
        // before that, else at the creation; each later point (and now) ends a stretch whose part past anchor + limit
        // is breached. The same arithmetic as Over, point by point, in one pass over the (ItemId, CreatedAt) index.
        var rows = await db.Database.SqlQuery<ItemRpoCompliance>($"""
            WITH lim AS (SELECT * FROM unnest({policyIds}::uuid[], {limitSeconds}::double precision[]) AS l(policy_id, seconds)),
            it AS (
                SELECT i."Id" AS id, i."CreatedAt" AS created, greatest(i."CreatedAt", {windowStart}::timestamptz) AS start,
                       make_interval(secs => l.seconds) AS lim
                FROM backup_items i JOIN lim l ON l.policy_id = i."PolicyId"
                WHERE i."Id" = ANY({ids}))
            SELECT it.id AS "ItemId",
                   CASE WHEN {nowUtc}::timestamptz <= it.start THEN NULL
                        ELSE greatest(0, least(1, 1 - extract(epoch FROM b.breached)::double precision
                                                    / extract(epoch FROM ({nowUtc}::timestamptz - it.start))::double precision)) END AS "Compliance"
            FROM it CROSS JOIN LATERAL (
                SELECT coalesce(sum(greatest(interval '0', s.next - greatest(s.anchor + it.lim, it.start))), interval '0') AS breached
                FROM (
                    SELECT x.t AS next,
                           coalesce(lag(x.t) OVER (ORDER BY x.t),
                                    (SELECT max(p."CreatedAt") FROM recovery_points p WHERE p."ItemId" = it.id AND p."CreatedAt" <= it.start),
                                    it.created) AS anchor
                    FROM (SELECT p."CreatedAt" AS t FROM recovery_points p
                          WHERE p."ItemId" = it.id AND p."CreatedAt" > it.start AND p."CreatedAt" <= {nowUtc}::timestamptz
                          UNION ALL SELECT {nowUtc}::timestamptz) x) s) b
            """).ToListAsync(ct);
        return rows.ToDictionary(r => r.ItemId, r => r.Compliance);
    }

    /// <summary>One row of <see cref="OverManyAsync"/>.</summary>
    public sealed record ItemRpoCompliance(Guid ItemId, double? Compliance);

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
