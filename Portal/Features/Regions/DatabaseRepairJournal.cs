using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine.Replication;

namespace Portal.Features.Regions;

/// <summary>The repair journals of the regions, one per region over the <c>replica_repairs</c> table.</summary>
public sealed class RepairJournals(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock)
{
    public IRepairJournal For(string region) => new DatabaseRepairJournal(dbFactory, region, clock);
}

/// <summary>
/// A region's <see cref="IRepairJournal"/> in PostgreSQL: copies a degraded write missed survive a restart and are
/// repaired by <see cref="RepairService"/> on whichever portal instance holds the region's lock.
/// </summary>
public sealed class DatabaseRepairJournal(IDbContextFactory<PortalDbContext> dbFactory, string region, TimeProvider clock) : IRepairJournal
{
    public async Task RecordAsync(string name, int replica, string reason, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var why = Clip(reason);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // Parallel puts may record the same copy: the first record wins, keeping its reason and time.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO replica_repairs ("Region", "Replica", "ObjectName", "Reason", "FirstSeenAt", "Attempts")
            VALUES ({region}, {replica}, {name}, {why}, {now}, 0)
            ON CONFLICT ("Region", "Replica", "ObjectName") DO NOTHING
            """, cancellationToken);
    }

    public async Task RecordFailedRepairAsync(string name, int replica, string error, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var why = Clip(error);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO replica_repairs ("Region", "Replica", "ObjectName", "Reason", "FirstSeenAt", "Attempts", "LastAttemptAt", "LastError")
            VALUES ({region}, {replica}, {name}, 'repair failed', {now}, 1, {now}, {why})
            ON CONFLICT ("Region", "Replica", "ObjectName")
            DO UPDATE SET "Attempts" = replica_repairs."Attempts" + 1, "LastAttemptAt" = {now}, "LastError" = {why}
            """, cancellationToken);
    }

    public async Task<IReadOnlyList<ReplicaIssue>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.ReplicaRepairs.AsNoTracking().Where(r => r.Region == region)
            .OrderBy(r => r.FirstSeenAt).ThenBy(r => r.ObjectName).ToListAsync(cancellationToken);
        return [.. rows.Select(r => new ReplicaIssue(r.ObjectName, r.Replica, r.LastError is null ? r.Reason : $"{r.Reason}; repair failed: {r.LastError}"))];
    }

    public async Task RemoveAsync(string name, int replica, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.ReplicaRepairs.Where(r => r.Region == region && r.Replica == replica && r.ObjectName == name).ExecuteDeleteAsync(cancellationToken);
    }

    private static string Clip(string text) => text.Length <= 2000 ? text : text[..1999] + "…";
}
