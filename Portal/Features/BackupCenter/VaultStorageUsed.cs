using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Vaults;

namespace Portal.Features.BackupCenter;

/// <summary>The vault list's "Storage used": the latest measurement of each vault in its own region (<see cref="StorageMeter"/>).</summary>
public sealed class VaultStorageUsed : IVaultStorageUsed
{
    public async Task<IReadOnlyDictionary<Guid, long>> LatestAsync(PortalDbContext db, IReadOnlyCollection<Guid> vaultIds, CancellationToken ct)
    {
        var ids = vaultIds.ToArray();
        var rows = await db.StorageUsage.AsNoTracking()
            .Where(s => ids.Contains(s.VaultId) && db.Vaults.Any(v => v.Id == s.VaultId && v.Region == s.Region))
            .GroupBy(s => s.VaultId)
            .Select(g => g.OrderByDescending(s => s.MeasuredAt).Select(s => new { s.VaultId, s.Bytes }).First())
            .ToListAsync(ct);
        return rows.ToDictionary(r => r.VaultId, r => r.Bytes);
    }
}
