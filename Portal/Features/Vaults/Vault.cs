using Portal.Features.Regions;

namespace Portal.Features.Vaults;

/// <summary>
/// A Recovery Services-style vault: the container that holds the recovery points of backup items,
/// stored in one region with LRS or GRS redundancy.
/// </summary>
public sealed class Vault
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";

    /// <summary>Upper-case invariant form of <see cref="Name"/>; unique, so names are unique ignoring case.</summary>
    public string NormalizedName { get; set; } = "";

    public string Region { get; set; } = "";
    public StorageRedundancy Redundancy { get; set; } = StorageRedundancy.GRS;
    public bool SoftDeleteEnabled { get; set; } = true;
    public int SoftDeleteRetentionDays { get; set; } = VaultRules.DefaultSoftDeleteDays;

    /// <summary>Whether recovery points may be removed before their retention ends (Azure's immutable vault).</summary>
    public VaultImmutability Immutability { get; set; } = VaultImmutability.Disabled;

    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";

    /// <summary>PostgreSQL's xmin: the optimistic concurrency token of the row.</summary>
    public uint Version { get; set; }
}

/// <summary>Where a vault keeps its copies (Azure's storage replication types).</summary>
public enum StorageRedundancy
{
    /// <summary>Locally redundant: three copies within the vault's region.</summary>
    LRS,

    /// <summary>Geo-redundant: LRS plus a copy in the paired region (Azure's default).</summary>
    GRS,
}

/// <summary>
/// Azure's immutable vault: while immutable, no operation removes a recovery point before its retention ends (reducing
/// retention, stop protection with delete, deleting the vault, removing the paired region's copy).
/// </summary>
public enum VaultImmutability
{
    /// <summary>Not immutable: the operations above run with their usual rules (second approver where critical).</summary>
    Disabled,

    /// <summary>Immutable, unlocked: a Backup.Contributor can turn it off again.</summary>
    Enabled,

    /// <summary>Immutable and locked: irreversible, as Azure's locked state.</summary>
    Locked,
}
