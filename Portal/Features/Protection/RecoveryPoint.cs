namespace Portal.Features.Protection;

/// <summary>
/// A recovery point of a backup item: one engine snapshot in the vault's repository, with what the portal knows
/// about it (the engine's snapshot is the truth; this row is what lists and retention read quickly).
/// </summary>
public sealed class RecoveryPoint
{
    public Guid Id { get; set; }
    public Guid ItemId { get; set; }
    public BackupItem? Item { get; set; }
    public Guid VaultId { get; set; }

    /// <summary>The engine snapshot id (64 hex characters).</summary>
    public string SnapshotId { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public RecoveryPointType Type { get; set; }
    public RecoveryPointConsistency Consistency { get; set; } = RecoveryPointConsistency.FileSystemConsistent;

    /// <summary>For on-demand points ("Back up now"): kept until this time, whatever the policy says.</summary>
    public DateTime? RetainUntil { get; set; }

    /// <summary>
    /// Taken in an immutable vault: kept at least until this time whatever happens to the vault's immutability or the
    /// policy (its snapshot carries the same time, and the engine's forget refuses it before then). Null otherwise.
    /// </summary>
    public DateTime? ImmutableUntil { get; set; }

    /// <summary>
    /// Kept until deleted (no retention end: a point of an item without a policy, or a stopped item's latest) and held in
    /// its repository with no end while the vault is immutable: the engine's forget refuses it until the hold is released
    /// (an unlocked immutability turned off).
    /// </summary>
    public bool HeldWhileImmutable { get; set; }

    /// <summary>When the last retention run says the point expires (null: kept for now without an end, or not evaluated yet).</summary>
    public DateTime? ExpiresAt { get; set; }

    public long Files { get; set; }
    public long Bytes { get; set; }

    /// <summary>What this point added to the vault's storage (after deduplication, compression and encryption).</summary>
    public long BytesAdded { get; set; }
    public int Warnings { get; set; }
    public Guid? JobId { get; set; }
}

public enum RecoveryPointType
{
    Scheduled,
    OnDemand,
}

/// <summary>Azure Backup's consistency types.</summary>
public enum RecoveryPointConsistency
{
    CrashConsistent,
    FileSystemConsistent,
    ApplicationConsistent,
}
