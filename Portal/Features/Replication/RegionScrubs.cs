using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Regions;

namespace Portal.Features.Replication;

/// <summary>A region's latest scrub as the vault page shows it: the region's figures, and the lost objects of one vault.</summary>
public sealed record VaultScrubView(string Region, int Replicas, RegionScrubRecord? Latest, IReadOnlyList<string> LostOfVault);

/// <summary>Reads the latest scrub findings of regions (written by <see cref="RegionScrub"/>).</summary>
public sealed class RegionScrubs(IDbContextFactory<PortalDbContext> dbFactory, RegionCatalog regions)
{
    /// <summary>The latest scrub of each region that holds <paramref name="vaultId"/>'s data (its own, and the pair for GRS).</summary>
    public async Task<IReadOnlyList<VaultScrubView>> ForVaultAsync(Guid vaultId, IReadOnlyList<string> vaultRegions, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.RegionScrubs.AsNoTracking().Where(s => vaultRegions.Contains(s.Region)).ToListAsync(ct);
        var prefix = $"{RegionStores.VaultPrefix(vaultId)}/";
        return [.. vaultRegions.Select(r =>
        {
            var row = rows.FirstOrDefault(s => string.Equals(s.Region, r, StringComparison.OrdinalIgnoreCase));
            return new VaultScrubView(r, regions.Find(r)?.Replicas ?? 0, row,
                row is null ? [] : [.. row.Lost.Where(n => n.StartsWith(prefix, StringComparison.Ordinal))]);
        })];
    }
}
