using Portal.Features.Vaults;

namespace Portal.Features.Protection;

/// <summary>
/// Something a vault protects (a folder, later a database). Only what the vault rules need exists
/// yet; configuring protection fills in the rest.
/// </summary>
public sealed class BackupItem
{
    public Guid Id { get; set; }
    public Guid VaultId { get; set; }
    public Vault? Vault { get; set; }
    public string Name { get; set; } = "";
    public string Kind { get; set; } = BackupItemKinds.FilesAndFolders;
    public ProtectionState State { get; set; } = ProtectionState.Protected;
    public DateTime CreatedAt { get; set; }

    /// <summary>When the item's backup data was soft-deleted; it is purged after the vault's soft-delete days.</summary>
    public DateTime? SoftDeletedAt { get; set; }
    public uint Version { get; set; }
}

public static class BackupItemKinds
{
    public const string FilesAndFolders = "FilesAndFolders";
}

public enum ProtectionState
{
    /// <summary>Backed up by its policy.</summary>
    Protected,

    /// <summary>Protection stopped; existing recovery points are kept.</summary>
    ProtectionStopped,

    /// <summary>Protection stopped with delete data: the data waits out the soft-delete period.</summary>
    SoftDeleted,
}
