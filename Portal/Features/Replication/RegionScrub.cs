using Microsoft.EntityFrameworkCore;
using Portal.Engine.Replication;
using Portal.Features.Alerts;

namespace Portal.Features.Replication;

/// <summary>What a region's scrub found and did, as the portal records it.</summary>
public sealed record RegionScrubResult(string Region, DateTime StartedAt, DateTime FinishedAt, ScrubReport Report);

/// <summary>
/// The scrub of one region's replicas (<see cref="ReplicatedStore.ScrubAsync"/>): every object compared across the
/// replicas and each missing or damaged copy rewritten from a good one. Its findings replace the region's row in
/// <c>region_scrubs</c>; objects with no good copy left raise one alert per vault (resolved by a later scrub that finds
/// none). It holds the region's repair lock, so the repair pass and the scrub never heal the same copies at once.
/// No job bookkeeping here: <see cref="ScrubRunner"/> does that.
/// </summary>
public sealed class RegionScrub(IDbContextFactory<PortalDbContext> dbFactory, RegionStores stores, AlertService alerts, TimeProvider clock)
{
    public async Task<RegionScrubResult> RunAsync(string region, IProgress<ScrubProgress>? progress, CancellationToken ct)
    {
        var started = clock.GetUtcNow().UtcDateTime;
        ScrubReport report;
        await using (var lockDb = await dbFactory.CreateDbContextAsync(ct))
        await using (await RegionLock.TakeAsync(lockDb, region, ct))
            report = await stores.Region(region).ScrubAsync(progress, ct);
        var result = new RegionScrubResult(region, started, clock.GetUtcNow().UtcDateTime, report);

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var row = await db.RegionScrubs.FirstOrDefaultAsync(s => s.Region == region, ct);
            if (row is null)
                db.RegionScrubs.Add(row = new RegionScrubRecord { Region = region });
            row.StartedAt = result.StartedAt;
            row.FinishedAt = result.FinishedAt;
            row.Objects = report.Objects;
            row.Issues = report.Issues.Count;
            row.Healed = report.Healed;
            row.Lost = [.. report.Lost];
            row.UnreachableReplicas = [.. report.UnreachableReplicas];
            await db.SaveChangesAsync(ct);
        }

        await AlertLostAsync(result, ct);
        return result;
    }

    /// <summary>The alert key of objects lost in <paramref name="region"/>: per vault, or for the region's other objects.</summary>
    public static string LostKey(string region, Guid? vaultId) =>
        $"{AlertKinds.ReplicaDataLost}:{region.ToLowerInvariant()}:{(vaultId is { } id ? id.ToString("N") : "region")}";

    /// <summary>The vault an object of a region's store belongs to (its name starts with <c>vaults/{id}/</c>).</summary>
    public static Guid? VaultOf(string objectName) =>
        objectName.StartsWith("vaults/", StringComparison.Ordinal) && objectName.Length > 40
        && Guid.TryParseExact(objectName.AsSpan(7, 32), "N", out var id) ? id : null;

    private async Task AlertLostAsync(RegionScrubResult result, CancellationToken ct)
    {
        var lost = result.Report.Lost.GroupBy(VaultOf).ToList();
        Dictionary<Guid, string> names;
        List<string> active;
        var prefix = $"{AlertKinds.ReplicaDataLost}:{result.Region.ToLowerInvariant()}:";
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var ids = lost.Where(g => g.Key is not null).Select(g => g.Key!.Value).ToList();
            names = await db.Vaults.AsNoTracking().Where(v => ids.Contains(v.Id)).ToDictionaryAsync(v => v.Id, v => v.Name, ct);
            active = await db.Alerts.AsNoTracking().Where(a => a.State == AlertState.Active && a.Key.StartsWith(prefix)).Select(a => a.Key).ToListAsync(ct);
        }

        var at = $"{result.FinishedAt:yyyy-MM-dd HH:mm} UTC";
        foreach (var group in lost)
        {
            var vault = group.Key is { } id ? names.GetValueOrDefault(id) : null;
            var what = vault is not null ? $"vault '{vault}'" : group.Key is not null ? $"a deleted vault ({group.Key:N})" : "the region itself";
            var objects = group.ToList();
            var listed = string.Join(", ", objects.Take(20)) + (objects.Count > 20 ? $" and {objects.Count - 20} more" : "");
            await alerts.RaiseAsync(new AlertInput(LostKey(result.Region, group.Key), AlertKinds.ReplicaDataLost, AlertSeverity.Critical,
                $"{objects.Count} object(s) of {what} lost in every replica of {result.Region}",
                $"The replica scrub of region {result.Region} at {at} found no good copy of {objects.Count} object(s) of {what} on any reachable replica" +
                (result.Report.UnreachableReplicas.Count > 0 ? $" (replica(s) {string.Join(", ", result.Report.UnreachableReplicas.Select(r => r + 1))} could not be reached)" : "") +
                $": {listed}.",
                (vault is not null ? $"Run \"Check structure and read all data\" on vault '{vault}': it names the recovery points and files that need these objects. Back those items up again so new recovery points do not depend on them. " : "") +
                "If a replica was unreachable or a disk was swapped, bring it back and scrub again: a good copy found there heals the others, and this alert resolves itself when a scrub finds nothing lost.")
            {
                VaultId = vault is not null ? group.Key : null,
                VaultName = vault,
                Link = vault is not null ? $"vaults/{Uri.EscapeDataString(vault)}" : null,
            }, ct);
        }

        var stillLost = lost.Select(g => LostKey(result.Region, g.Key)).ToHashSet();
        foreach (var key in active.Where(k => !stillLost.Contains(k)))
            await alerts.ResolveAsync(key, $"The replica scrub of {result.Region} at {at} found a good copy of every object.", ct);
    }
}
