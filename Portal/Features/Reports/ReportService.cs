using Microsoft.EntityFrameworkCore;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Data;
using Portal.Features.Identity;
using Portal.Features.Vaults;

namespace Portal.Features.Reports;

/// <summary>
/// Reports over a range of days: jobs by outcome, data transferred, storage per vault and region, storage per item,
/// items by policy. Every figure is grouped in the database; nothing loads one row per job.
/// </summary>
public sealed class ReportService(IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, TimeProvider clock)
{
    public ReportRange DefaultRange() => ReportRange.Last(30, clock.GetUtcNow().UtcDateTime);

    public async Task<IReadOnlyList<JobDayRow>> JobsPerDayAsync(ReportRange range, Guid? vaultId = null, CancellationToken ct = default)
    {
        await CheckAsync(range);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var jobs = db.Jobs.AsNoTracking().Where(j => j.QueuedAt >= range.StartUtc && j.QueuedAt < range.EndUtc);
        if (vaultId is { } v) jobs = jobs.Where(j => j.VaultId == v);
        var groups = await jobs.GroupBy(j => new { j.QueuedAt.Date, j.Kind, j.Status })
            .Select(g => new { g.Key.Date, g.Key.Kind, g.Key.Status, Count = g.Count() }).ToListAsync(ct);
        return [.. groups.GroupBy(g => (Day: DateOnly.FromDateTime(g.Date), g.Kind)).OrderBy(g => g.Key.Day).ThenBy(g => g.Key.Kind)
            .Select(g =>
            {
                int Of(params JobStatus[] s) => g.Where(x => s.Contains(x.Status)).Sum(x => x.Count);
                return new JobDayRow(g.Key.Day, g.Key.Kind, g.Sum(x => x.Count), Of(JobStatus.Completed), Of(JobStatus.CompletedWithWarnings),
                    Of(JobStatus.Failed), Of(JobStatus.Cancelled), Of(JobStatus.Queued, JobStatus.InProgress, JobStatus.Cancelling));
            })];
    }

    /// <summary>
    /// Per day: what backups read and added to vaults (from the recovery points made that day; points removed by
    /// retention no longer count) and what restores wrote (from restore jobs). Every day of the range has a row.
    /// </summary>
    public async Task<IReadOnlyList<TransferDayRow>> TransferPerDayAsync(ReportRange range, Guid? vaultId = null, CancellationToken ct = default)
    {
        await CheckAsync(range);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var points = db.RecoveryPoints.AsNoTracking().Where(p => p.CreatedAt >= range.StartUtc && p.CreatedAt < range.EndUtc);
        var restores = db.Jobs.AsNoTracking().Where(j => j.Kind == JobKind.Restore && j.QueuedAt >= range.StartUtc && j.QueuedAt < range.EndUtc
            && (j.Status == JobStatus.Completed || j.Status == JobStatus.CompletedWithWarnings));
        if (vaultId is { } v)
        {
            points = points.Where(p => p.VaultId == v);
            restores = restores.Where(j => j.VaultId == v);
        }

        var backedUp = await points.GroupBy(p => p.CreatedAt.Date)
            .Select(g => new { g.Key, Bytes = g.Sum(p => p.Bytes), Added = g.Sum(p => p.BytesAdded) })
            .ToDictionaryAsync(g => DateOnly.FromDateTime(g.Key), ct);
        var restored = await restores.GroupBy(j => j.QueuedAt.Date).Select(g => new { g.Key, Bytes = g.Sum(j => j.BytesDone) })
            .ToDictionaryAsync(g => DateOnly.FromDateTime(g.Key), g => g.Bytes, ct);
        return [.. range.EachDay().Select(d => new TransferDayRow(d,
            backedUp.GetValueOrDefault(d)?.Bytes ?? 0, backedUp.GetValueOrDefault(d)?.Added ?? 0, restored.GetValueOrDefault(d)))];
    }

    /// <summary>
    /// Each vault's storage per region for every day of the range: the day's last measurement, or the one before it
    /// when that day was not measured (a quiet day keeps its size). Days before a vault's first measurement are left out.
    /// </summary>
    public async Task<IReadOnlyList<StorageDayRow>> StoragePerDayAsync(ReportRange range, Guid? vaultId = null, CancellationToken ct = default)
    {
        await CheckAsync(range);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var vaults = await db.Vaults.AsNoTracking().Where(x => vaultId == null || x.Id == vaultId).ToDictionaryAsync(x => x.Id, x => x.Name, ct);
        var usage = db.StorageUsage.AsNoTracking().Where(s => s.Day <= range.To && vaults.Keys.Contains(s.VaultId));
        // The last measurement before the range, per vault and region, seeds the first days.
        var before = await usage.Where(s => s.Day < range.From).GroupBy(s => new { s.VaultId, s.Region })
            .Select(g => g.OrderByDescending(s => s.Day).First()).ToListAsync(ct);
        var inRange = await usage.Where(s => s.Day >= range.From).ToListAsync(ct);
        var rows = new List<StorageDayRow>();
        foreach (var series in before.Concat(inRange).GroupBy(s => (s.VaultId, s.Region)).OrderBy(s => vaults[s.Key.VaultId]).ThenBy(s => s.Key.Region))
        {
            var byDay = series.ToDictionary(s => s.Day);
            StorageUsage? last = series.Where(s => s.Day < range.From).MaxBy(s => s.Day);
            foreach (var day in range.EachDay())
            {
                if (byDay.TryGetValue(day, out var today)) last = today;
                if (last is not null)
                    rows.Add(new StorageDayRow(day, series.Key.VaultId, vaults[series.Key.VaultId], series.Key.Region, last.Bytes));
            }
        }

        return rows;
    }

    public async Task<IReadOnlyList<ItemStorageDayRow>> ItemStoragePerDayAsync(ReportRange range, Guid? vaultId = null, CancellationToken ct = default)
    {
        await CheckAsync(range);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var points = db.RecoveryPoints.AsNoTracking().Where(p => p.CreatedAt >= range.StartUtc && p.CreatedAt < range.EndUtc);
        if (vaultId is { } v) points = points.Where(p => p.VaultId == v);
        var rows = await points.GroupBy(p => new { p.CreatedAt.Date, p.ItemId, Item = p.Item!.Name, Vault = p.Item.Vault!.Name })
            .Select(g => new { g.Key.Date, g.Key.ItemId, g.Key.Item, g.Key.Vault, Count = g.Count(), Bytes = g.Max(p => p.Bytes), Added = g.Sum(p => p.BytesAdded) })
            .ToListAsync(ct);
        return [.. rows.Select(r => new ItemStorageDayRow(DateOnly.FromDateTime(r.Date), r.ItemId, r.Item, r.Vault, r.Count, r.Bytes, r.Added))
            .OrderBy(r => r.Day).ThenBy(r => r.Vault, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Item, StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>Per item over the range (the page's view; the CSV has it per day). Protected data is the largest point's size.</summary>
    public async Task<IReadOnlyList<ItemStorageRow>> ItemStorageAsync(ReportRange range, Guid? vaultId = null, CancellationToken ct = default)
    {
        await CheckAsync(range);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var points = db.RecoveryPoints.AsNoTracking().Where(p => p.CreatedAt >= range.StartUtc && p.CreatedAt < range.EndUtc);
        if (vaultId is { } v) points = points.Where(p => p.VaultId == v);
        var rows = await points.GroupBy(p => p.ItemId)
            .Select(g => new { ItemId = g.Key, Count = g.Count(), Added = g.Sum(p => p.BytesAdded), Largest = g.Max(p => p.Bytes) })
            .ToListAsync(ct);
        var ids = rows.Select(r => r.ItemId).ToList();
        var names = await db.BackupItems.AsNoTracking().Where(i => ids.Contains(i.Id))
            .Select(i => new { i.Id, i.Name, Vault = i.Vault!.Name }).ToDictionaryAsync(i => i.Id, ct);
        return [.. rows.Where(r => names.ContainsKey(r.ItemId))
            .Select(r => new ItemStorageRow(r.ItemId, names[r.ItemId].Name, names[r.ItemId].Vault, r.Count, r.Largest, r.Added))
            .OrderBy(r => r.Vault, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Item, StringComparer.OrdinalIgnoreCase)];
    }

    public async Task<IReadOnlyList<PolicyItemsRow>> ItemsByPolicyAsync(Guid? vaultId = null, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view reports");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var items = db.BackupItems.AsNoTracking();
        if (vaultId is { } v) items = items.Where(i => i.VaultId == v);
        var groups = await items.GroupBy(i => new { Vault = i.Vault!.Name, Policy = i.Policy!.Name, i.State, NoPoint = i.LatestRecoveryPointAt == null })
            .Select(g => new { g.Key.Vault, g.Key.Policy, g.Key.State, g.Key.NoPoint, Count = g.Count() }).ToListAsync(ct);
        return [.. groups.GroupBy(g => (g.Vault, Policy: g.Policy ?? "(no policy)"))
            .Select(g => new PolicyItemsRow(g.Key.Vault, g.Key.Policy,
                g.Where(x => x.State == ProtectionState.Protected).Sum(x => x.Count),
                g.Where(x => x.State == ProtectionState.ProtectionStopped).Sum(x => x.Count),
                g.Where(x => x.State == ProtectionState.SoftDeleted).Sum(x => x.Count),
                g.Where(x => x.State == ProtectionState.Protected && x.NoPoint).Sum(x => x.Count)))
            .OrderBy(r => r.Vault, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Policy, StringComparer.OrdinalIgnoreCase)];
    }

    private async Task CheckAsync(ReportRange range)
    {
        await currentUser.RequireViewerAsync("view reports");
        if (range.Problem() is { } problem)
            throw new PortalValidationException("Range", problem);
    }
}
