using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine.Retention;
using Portal.Features.Common;
using Portal.Features.Policies;
using Portal.Features.Vaults;

namespace Portal.Features.Protection;

/// <summary>Protection's answers about the backup items it keeps: to vaults (what a vault holds) and to policies (what a policy protects).</summary>
public sealed class ItemsInVaultsAndPolicies : IVaultContents, IPolicyItems
{
    public IQueryable<Guid> ItemVaultIds(PortalDbContext db) => db.BackupItems.Select(i => i.VaultId);

    public async Task<VaultItemCounts> CountAsync(PortalDbContext db, Guid vaultId, CancellationToken ct)
    {
        var counts = await db.BackupItems.AsNoTracking().Where(i => i.VaultId == vaultId)
            .GroupBy(i => i.State).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        return new VaultItemCounts(counts.GetValueOrDefault(ProtectionState.Protected), counts.GetValueOrDefault(ProtectionState.ProtectionStopped),
            counts.GetValueOrDefault(ProtectionState.SoftDeleted));
    }

    public Task<int> RecoveryPointCountAsync(PortalDbContext db, Guid vaultId, CancellationToken ct) =>
        db.RecoveryPoints.AsNoTracking().CountAsync(p => p.VaultId == vaultId, ct);

    /// <summary>Refuses while the vault holds backup items or soft-deleted backup data.</summary>
    public async Task EnsureEmptyAsync(PortalDbContext db, Vault vault, CancellationToken ct)
    {
        var items = await db.BackupItems.Where(i => i.VaultId == vault.Id)
            .GroupBy(i => i.State == ProtectionState.SoftDeleted)
            .Select(g => new { SoftDeleted = g.Key, Count = g.Count(), Until = g.Max(i => i.SoftDeletedAt) })
            .ToListAsync(ct);
        if (items.FirstOrDefault(g => !g.SoftDeleted) is { } live)
            throw new PortalConflictException(
                $"Vault {vault.Name} still holds {live.Count} backup item(s). Stop protection and delete their backup data first.");
        if (items.FirstOrDefault(g => g.SoftDeleted) is { } soft)
        {
            var purge = soft.Until?.AddDays(vault.SoftDeleteRetentionDays);
            throw new PortalConflictException(
                $"Vault {vault.Name} still holds soft-deleted backup data of {soft.Count} item(s)" +
                (purge is null ? "" : $", purged after {purge:yyyy-MM-dd HH:mm} UTC") +
                ". A vault can be deleted once that data is purged.");
        }
    }

    public async Task<IReadOnlyList<PolicyItemPoints>> RecoveryPointsAsync(PortalDbContext db, Guid policyId, CancellationToken ct)
    {
        var items = await db.BackupItems.AsNoTracking()
            .Where(i => i.PolicyId == policyId && i.State != ProtectionState.SoftDeleted)
            .OrderBy(i => i.Name).Select(i => new { i.Id, i.Name }).ToListAsync(ct);
        var ids = items.Select(i => i.Id).ToList();
        var points = await db.RecoveryPoints.AsNoTracking().Where(p => ids.Contains(p.ItemId))
            .Select(p => new { p.ItemId, p.SnapshotId, p.CreatedAt, p.RetainUntil }).ToListAsync(ct);
        return [.. items.Select(item => new PolicyItemPoints(item.Name, [.. points.Where(p => p.ItemId == item.Id)
            .Select(p => new RecoveryPointRef(p.SnapshotId, new DateTimeOffset(p.CreatedAt, TimeSpan.Zero), p.RetainUntil is { } u ? new DateTimeOffset(u, TimeSpan.Zero) : null))]))];
    }
}
