using Microsoft.EntityFrameworkCore;

namespace Portal.Features.BackupCenter;

/// <summary>The estate at a glance: what the home page shows.</summary>
public sealed record EstateSummary(
    int Vaults,
    IReadOnlyDictionary<JobStatus, int> JobsLast24Hours,
    IReadOnlyList<Job> RunningJobs,
    IReadOnlyList<VaultReplicationSummary> Replication);

/// <summary>A GRS vault and the state of its copy in the paired region.</summary>
public sealed record VaultReplicationSummary(string Vault, string PairedRegion, VaultReplicationState? State);

public sealed class BackupCenterService(
    IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, RegionCatalog regions, ReplicationStatus replication, TimeProvider clock)
{
    public async Task<EstateSummary> SummarizeAsync(CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view the Backup center");
        var since = clock.GetUtcNow().UtcDateTime.AddHours(-24);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var vaults = await db.Vaults.AsNoTracking().Select(v => new { v.Id, v.Name, v.Region, v.Redundancy }).ToListAsync(ct);
        var jobCounts = await db.Jobs.AsNoTracking().Where(j => j.QueuedAt >= since)
            .GroupBy(j => j.Status).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var running = await db.Jobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.InProgress || j.Status == JobStatus.Queued || j.Status == JobStatus.Cancelling)
            .OrderByDescending(j => j.QueuedAt).Take(10).ToListAsync(ct);
        var geo = vaults.Where(v => v.Redundancy == StorageRedundancy.GRS)
            .Select(v => new VaultReplicationSummary(v.Name, regions.Find(v.Region)?.PairedRegion ?? "?", replication.For(v.Id)))
            .OrderBy(v => v.Vault, StringComparer.OrdinalIgnoreCase)
            .ToList();
        return new EstateSummary(vaults.Count, jobCounts, running, geo);
    }
}
