using Microsoft.EntityFrameworkCore;
using Portal.Features.Protection;
using Portal.Features.Reports;
using Portal.Data;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Regions;
using Portal.Features.Replication;
using Portal.Features.Vaults;

namespace Portal.Features.BackupCenter;

/// <summary>The estate at a glance: what the home page shows.</summary>
public sealed record EstateSummary(
    int Vaults,
    IReadOnlyDictionary<JobStatus, int> JobsLast24Hours,
    IReadOnlyList<Job> RunningJobs,
    IReadOnlyList<VaultReplicationSummary> Replication)
{
    /// <summary>Backup items by health (healthy, not backed up yet, warning, RPO breached, failed, protection stopped).</summary>
    public IReadOnlyDictionary<ItemHealth, int> ItemsByHealth { get; init; } = new Dictionary<ItemHealth, int>();

    /// <summary>Each vault's storage per region, as last measured.</summary>
    public IReadOnlyList<VaultStorageSummary> Storage { get; init; } = [];

    /// <summary>Active alerts by severity (the same counts as the bell).</summary>
    public Alerts.AlertCounts ActiveAlerts { get; init; } = new(0, 0, 0);

    /// <summary>The protected items whose recovery point is oldest against its target (those that need someone first).</summary>
    public IReadOnlyList<ItemRpoSummary> NeedsAttention { get; init; } = [];

    /// <summary>The jobs that failed in the last 24 hours, newest first (at most <see cref="BackupCenterService.FailedJobLimit"/>).</summary>
    public IReadOnlyList<Job> FailedJobs { get; init; } = [];

    /// <summary>RPO and RTO compliance per vault and per protected item, and what drills prove.</summary>
    public ComplianceSummary Recoverability { get; init; } = new([], []);
}

/// <summary>A GRS vault and the state of its copy in the paired region.</summary>
public sealed record VaultReplicationSummary(string Vault, string PairedRegion, VaultReplicationState? State);

/// <summary>What a vault's repository occupies in one region.</summary>
public sealed record VaultStorageSummary(string Vault, string Region, bool Primary, long Bytes, DateTime MeasuredAt);

/// <summary>
/// An item's recovery point objective now: the age of its newest recovery point against the policy's target, and
/// the share of the last 30 days it was within target (plus grace).
/// </summary>
public sealed record ItemRpoSummary(Guid ItemId, string Item, string Vault, ItemHealth Health, DateTime? LatestPointAt, TimeSpan RpoNow, TimeSpan RpoTarget, double? Compliance30Days);

/// <summary>Daily figures for the Backup center's charts.</summary>
public sealed record EstateTrends(
    IReadOnlyList<DateOnly> Days,
    IReadOnlyDictionary<string, double[]> JobOutcomes,
    double[] BytesBackedUp,
    double[] BytesRestored,
    IReadOnlyDictionary<string, double[]> StorageByVault);

public sealed class BackupCenterService(
    IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, RegionCatalog regions, ReplicationStatus replication,
    ReportService reports, ComplianceReport compliance, TimeProvider clock)
{
    /// <summary>How many items the "needs attention" card lists.</summary>
    public const int AttentionLimit = 10;

    /// <summary>How many failed jobs the Backup center lists.</summary>
    public const int FailedJobLimit = 5;

    public async Task<EstateSummary> SummarizeAsync(CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view the Backup center");
        var now = clock.GetUtcNow().UtcDateTime;
        var since = now.AddHours(-24);
        var recoverability = compliance.SummarizeAsync(ct: ct); // its own connection: runs beside the queries below
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var vaults = await db.Vaults.AsNoTracking().Select(v => new { v.Id, v.Name, v.Region, v.Redundancy }).ToListAsync(ct);
        var jobCounts = await db.Jobs.AsNoTracking().Where(j => j.QueuedAt >= since)
            .GroupBy(j => j.Status).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var running = await db.Jobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.InProgress || j.Status == JobStatus.Queued || j.Status == JobStatus.Cancelling)
            .OrderByDescending(j => j.QueuedAt).Take(10).ToListAsync(ct);
        var failed = await db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Failed && j.QueuedAt >= since)
            .OrderByDescending(j => j.EndedAt ?? j.QueuedAt).Take(FailedJobLimit).ToListAsync(ct);
        var geo = vaults.Where(v => v.Redundancy == StorageRedundancy.GRS)
            .Select(v => new VaultReplicationSummary(v.Name, regions.Find(v.Region)?.PairedRegion ?? "?", replication.For(v.Id)))
            .OrderBy(v => v.Vault, StringComparer.OrdinalIgnoreCase)
            .ToList();

        var limits = await ItemHealthIndex.RpoLimitsAsync(db, ct);
        var health = await ItemHealthIndex.LoadAsync(db, db.BackupItems.AsNoTracking(), limits, now, ct);
        var names = vaults.ToDictionary(v => v.Id, v => v);
        var latest = await db.StorageUsage.AsNoTracking().GroupBy(s => new { s.VaultId, s.Region })
            .Select(g => g.OrderByDescending(s => s.Day).First()).ToListAsync(ct);
        var storage = latest.Where(s => names.ContainsKey(s.VaultId))
            .Select(s => new VaultStorageSummary(names[s.VaultId].Name, s.Region, s.Region == names[s.VaultId].Region, s.Bytes, s.MeasuredAt))
            .OrderBy(s => s.Vault, StringComparer.OrdinalIgnoreCase).ThenByDescending(s => s.Primary).ToList();

        return new EstateSummary(vaults.Count, jobCounts, running, geo)
        {
            ItemsByHealth = health.GroupBy(h => h.Health).ToDictionary(g => g.Key, g => g.Count()),
            Storage = storage,
            FailedJobs = failed,
            NeedsAttention = await NeedsAttentionAsync(db, health, limits, now, ct),
            ActiveAlerts = await Alerts.AlertQueries.CountActiveAsync(db, ct),
            Recoverability = await recoverability,
        };
    }

    /// <summary>Daily job outcomes, data backed up and restored, and storage per vault for the last <paramref name="days"/> days (today included).</summary>
    public async Task<EstateTrends> TrendsAsync(int days = 14, CancellationToken ct = default)
    {
        var range = ReportRange.Last(days, clock.GetUtcNow().UtcDateTime);
        var dayList = range.EachDay().ToList();
        int Index(DateOnly d) => d.DayNumber - range.From.DayNumber;

        var outcomes = new Dictionary<string, double[]>
        {
            ["Completed"] = new double[days], ["Completed with warnings"] = new double[days], ["Failed"] = new double[days], ["Cancelled"] = new double[days],
        };
        // Three independent queries (each with its own connection), run together.
        var jobsTask = reports.JobsPerDayAsync(range, ct: ct);
        var transferTask = reports.TransferPerDayAsync(range, ct: ct);
        var storageTask = reports.StoragePerDayAsync(range, ct: ct);
        foreach (var row in await jobsTask)
        {
            outcomes["Completed"][Index(row.Day)] += row.Completed;
            outcomes["Completed with warnings"][Index(row.Day)] += row.CompletedWithWarnings;
            outcomes["Failed"][Index(row.Day)] += row.Failed;
            outcomes["Cancelled"][Index(row.Day)] += row.Cancelled;
        }

        var transfer = await transferTask;
        var storage = new Dictionary<string, double[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var row in await storageTask)
        {
            var key = $"{row.Vault} ({row.Region})";
            if (!storage.TryGetValue(key, out var series)) storage[key] = series = new double[days];
            series[Index(row.Day)] = row.Bytes;
        }

        return new EstateTrends(dayList, outcomes,
            [.. transfer.Select(t => (double)t.AddedToVaultBytes)], [.. transfer.Select(t => (double)t.RestoredBytes)], storage);
    }

    private static async Task<IReadOnlyList<ItemRpoSummary>> NeedsAttentionAsync(
        PortalDbContext db, List<ItemHealthRow> health, IReadOnlyDictionary<Guid, ItemHealthIndex.PolicyRpo> limits, DateTime now, CancellationToken ct)
    {
        // The items furthest past their RPO target, then failed ones: the ones to look at first.
        // An item still waiting for its first scheduled backup needs no one yet; one whose first backup is overdue does.
        var worst = health.Where(h => h.Health is not ItemHealth.ProtectionStopped and not ItemHealth.Healthy and not ItemHealth.NotBackedUpYet && h.RpoTarget is not null)
            .OrderByDescending(h => h.Health is ItemHealth.RpoBreached or ItemHealth.Failed or ItemHealth.FirstBackupOverdue)
            .ThenByDescending(h => (now - (h.LatestPointAt ?? h.CreatedAt)) / h.RpoTarget!.Value)
            .Take(AttentionLimit).ToList();
        if (worst.Count == 0)
            return [];
        var ids = worst.Select(w => w.Id).ToList();
        var names = await db.BackupItems.AsNoTracking().Where(i => ids.Contains(i.Id))
            .Select(i => new { i.Id, i.Name, Vault = i.Vault!.Name }).ToDictionaryAsync(i => i.Id, ct);
        var compliance = await RpoCompliance.OverManyAsync(db, ids, limits, now, ct);
        return [.. worst.Where(w => names.ContainsKey(w.Id)).Select(w => new ItemRpoSummary(w.Id, names[w.Id].Name, names[w.Id].Vault, w.Health,
            w.LatestPointAt, now - (w.LatestPointAt ?? w.CreatedAt), w.RpoTarget!.Value,
            compliance.GetValueOrDefault(w.Id)))];
    }
}
