using Microsoft.EntityFrameworkCore;

namespace Portal.Features.BackupCenter;

/// <summary>The estate at a glance: what the home page shows.</summary>
public sealed record EstateSummary(
    int Vaults,
    IReadOnlyDictionary<JobStatus, int> JobsLast24Hours,
    IReadOnlyList<Job> RunningJobs,
    IReadOnlyList<VaultReplicationSummary> Replication)
{
    /// <summary>Backup items by health (healthy, warning, RPO breached, failed, protection stopped).</summary>
    public IReadOnlyDictionary<Protection.ItemHealth, int> ItemsByHealth { get; init; } = new Dictionary<Protection.ItemHealth, int>();
}

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
        var items = await db.BackupItems.AsNoTracking()
            .Select(i => new { i.State, i.LastBackupStatus, i.LatestRecoveryPointAt, i.CreatedAt, Definition = i.Policy!.Definition })
            .ToListAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var policies = new Dictionary<string, Policies.PolicyDefinition>();
        var health = items
            .GroupBy(i => Protection.ProtectionRules.Health(i.State, i.LastBackupStatus, i.LatestRecoveryPointAt, i.CreatedAt,
                i.Definition is null ? null : policies.TryGetValue(i.Definition, out var d) ? d : policies[i.Definition] = Policies.PolicyDefinition.FromJson(i.Definition), now))
            .ToDictionary(g => g.Key, g => g.Count());
        return new EstateSummary(vaults.Count, jobCounts, running, geo) { ItemsByHealth = health };
    }
}
