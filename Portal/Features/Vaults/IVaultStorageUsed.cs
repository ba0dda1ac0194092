using Portal.Data;

namespace Portal.Features.Vaults;

/// <summary>
/// What each vault occupies in its own region, as last measured. The measurement belongs to the Backup center, above
/// vaults, so the vault list asks through this interface (no answer: "Storage used" shows "—").
/// </summary>
public interface IVaultStorageUsed
{
    /// <summary>The latest measured bytes in each vault's primary region, for the vaults that have been measured.</summary>
    Task<IReadOnlyDictionary<Guid, long>> LatestAsync(PortalDbContext db, IReadOnlyCollection<Guid> vaultIds, CancellationToken ct);
}
