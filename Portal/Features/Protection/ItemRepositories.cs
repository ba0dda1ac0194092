using Portal.Engine;

namespace Portal.Features.Protection;

/// <summary>
/// Where an item's recovery points live: the vault's own repository for the portal host's items, or the item's machine's
/// repository (opened with the key it escrowed to the vault). Retention, restore, browsing and downloads open repositories here.
/// </summary>
public sealed class ItemRepositories(VaultKeys keys, IMachines machines)
{
    /// <summary>Opens the repository that holds the points of items on <paramref name="machineId"/> (null: the portal host's) in the vault.</summary>
    public Task<BackupEngine> OpenAsync(Guid vaultId, string vaultName, string region, Guid? machineId, CancellationToken ct) =>
        machineId is { } machine ? machines.OpenRepositoryAsync(machine, ct) : keys.OpenAsync(vaultId, vaultName, region, ct);
}
