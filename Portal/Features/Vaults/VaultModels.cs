using Portal.Features.Regions;

namespace Portal.Features.Vaults;

/// <summary>A row of the vault list.</summary>
public sealed record VaultSummary(
    Guid Id, string Name, string Region, StorageRedundancy Redundancy, int ItemCount, long? StorageUsedBytes, DateTime CreatedAt);

/// <summary>The vault overview.</summary>
public sealed record VaultDetails(
    Guid Id,
    string Name,
    string Region,
    string? PairedRegion,
    StorageRedundancy Redundancy,
    bool SoftDeleteEnabled,
    int SoftDeleteRetentionDays,
    int ProtectedItemCount,
    int StoppedItemCount,
    int SoftDeletedItemCount,
    DateTime CreatedAt,
    string CreatedBy,
    DateTime UpdatedAt,
    string UpdatedBy,
    uint Version,
    VaultImmutability Immutability = VaultImmutability.Disabled)
{
    public int ItemCount => ProtectedItemCount + StoppedItemCount + SoftDeletedItemCount;
}

/// <summary>Which vaults to list: a page, an optional search on the name, and a sort column.</summary>
public sealed record VaultQuery(
    int PageIndex = 0,
    int PageSize = 25,
    string? Search = null,
    VaultSortColumn SortBy = VaultSortColumn.Name,
    Common.SortDirection Direction = Common.SortDirection.Ascending);

public enum VaultSortColumn
{
    Name,
    Region,
    Redundancy,
    ItemCount,
    CreatedAt,
}

public sealed record CreateVaultRequest(string Name, string Region, StorageRedundancy Redundancy = StorageRedundancy.GRS);

/// <summary>A change of vault properties, made against the <paramref name="Version"/> the user saw.</summary>
/// <param name="ConfirmRemoveSecondary">
/// GRS → LRS of a vault with backup items removes its copy in the paired region: the vault's name, typed, confirms it.
/// </param>
public sealed record UpdateVaultRequest(
    Guid Id, uint Version, StorageRedundancy Redundancy, bool SoftDeleteEnabled, int SoftDeleteRetentionDays, string? ConfirmRemoveSecondary = null);
