using Portal.Data;

namespace Portal.Features.Vaults;

/// <summary>
/// What a vault needs to know about the backup items it holds. Vaults sit below protection, so they ask through this
/// interface and Protection, which owns the items, answers.
/// </summary>
public interface IVaultContents
{
    /// <summary>One row per backup item in any state: the vault it is in. Composable, so lists count and sort in the database.</summary>
    IQueryable<Guid> ItemVaultIds(PortalDbContext db);

    /// <summary>The vault's items by protection state.</summary>
    Task<VaultItemCounts> CountAsync(PortalDbContext db, Guid vaultId, CancellationToken ct);

    /// <summary>How many recovery points the vault's items hold.</summary>
    Task<int> RecoveryPointCountAsync(PortalDbContext db, Guid vaultId, CancellationToken ct);

    /// <summary>Refuses (a conflict saying what is left and when it goes) while the vault holds backup items or soft-deleted backup data.</summary>
    Task EnsureEmptyAsync(PortalDbContext db, Vault vault, CancellationToken ct);
}

/// <summary>A vault's backup items: protected, with protection stopped (data kept), and soft-deleted.</summary>
public sealed record VaultItemCounts(int Protected, int ProtectionStopped, int SoftDeleted)
{
    public int Total => Protected + ProtectionStopped + SoftDeleted;
}

/// <summary>
/// What a vault holds, for whoever approves its deletion: its items, their recovery points, the machines registered to
/// it (revoked ones apart) and its storage as last measured in its primary region (null: never measured).
/// </summary>
public sealed record VaultHoldings(string Vault, VaultItemCounts Items, int RecoveryPoints, int Machines, int RevokedMachines, long? StorageBytes, DateTime? StorageMeasuredAt);

/// <summary>
/// Told when a vault is created, before it is saved, with the same context: what an observer adds (the vault's default
/// policy) is saved with the vault in one transaction.
/// </summary>
public interface IVaultCreationObserver
{
    void VaultCreating(PortalDbContext db, Vault vault, string author);
}
