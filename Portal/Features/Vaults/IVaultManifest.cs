namespace Portal.Features.Vaults;

/// <summary>
/// Keeps the vault manifest in the vault's own storage current (its settings, policies, items and machines, sealed with
/// the vault's key), so the catalog can be rebuilt from storage if the portal's database is lost. Features below the one
/// that writes it (Vaults, Policies, Protection, Machines) call <see cref="RefreshAsync"/> after a change is saved.
/// </summary>
public interface IVaultManifest
{
    /// <summary>
    /// Best effort, after the database change: writes the manifest when it differs from the last one written, and never
    /// throws (a failure is logged as a warning; the next change or backup writes it again).
    /// </summary>
    Task RefreshAsync(Guid vaultId, CancellationToken ct = default);

    /// <summary>
    /// As <see cref="RefreshAsync"/>, in one repository only: the vault's own (<paramref name="machineId"/> null) or that
    /// machine's. After a backup, the repository it wrote to: a backup opens no other machine's repository.
    /// </summary>
    Task RefreshRepositoryAsync(Guid vaultId, Guid? machineId, CancellationToken ct = default);
}

/// <summary>Calls every registered <see cref="IVaultManifest"/> (none in hosts without the attach feature).</summary>
public static class VaultManifests
{
    public static async Task RefreshAsync(this IEnumerable<IVaultManifest> manifests, Guid vaultId, CancellationToken ct = default)
    {
        foreach (var manifest in manifests)
            await manifest.RefreshAsync(vaultId, ct);
    }

    public static async Task RefreshRepositoryAsync(this IEnumerable<IVaultManifest> manifests, Guid vaultId, Guid? machineId, CancellationToken ct = default)
    {
        foreach (var manifest in manifests)
            await manifest.RefreshRepositoryAsync(vaultId, machineId, ct);
    }
}
