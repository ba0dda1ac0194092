using Microsoft.EntityFrameworkCore;
using Portal.Features.Replication;
using Portal.Data;

namespace Portal.Features.Alerts;

/// <summary>
/// Turns a region scrub's lost objects (no good copy on any reachable replica) into one critical alert per vault (or one
/// for the region's objects outside any vault); a later scrub of the region that finds none of them lost resolves it.
/// </summary>
public sealed class ScrubAlerts(IDbContextFactory<PortalDbContext> dbFactory, AlertService alerts) : IRegionScrubObserver
{
    /// <summary>The alert key of objects lost in <paramref name="region"/>: per vault, or for the region's other objects.</summary>
    public static string LostKey(string region, Guid? vaultId) =>
        $"{AlertKinds.ReplicaDataLost}:{region.ToLowerInvariant()}:{(vaultId is { } id ? id.ToString("N") : "region")}";

    public async Task ScrubFinishedAsync(RegionScrubResult result, CancellationToken ct)
    {
        var lost = result.Report.Lost.GroupBy(RegionScrub.VaultOf).ToList();
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
