using Portal.Features.Jobs;

namespace Portal.Features.Protection;

/// <summary>
/// Configure protection of a folder (or, with <see cref="Database"/>, of a PostgreSQL database): which vault and policy;
/// the vault passphrase if the vault has none yet; optional pre/post-backup scripts for a folder. With
/// <see cref="MachineId"/>, the folder is on that registered machine (its agent backs it up with its own key: no vault
/// passphrase is asked).
/// </summary>
public sealed record ConfigureProtectionRequest(
    Guid VaultId,
    Guid PolicyId,
    string Name,
    string SourcePath,
    IReadOnlyList<string>? Include = null,
    IReadOnlyList<string>? Exclude = null,
    string? Passphrase = null,
    string? ConfirmPassphrase = null,
    DatabaseSettings? Database = null,
    ScriptSettings? Scripts = null,
    Guid? MachineId = null);

/// <summary>A PostgreSQL database to protect; the password is sealed at once and never stored or logged in plain text.</summary>
public sealed record DatabaseSettings(string Host, int? Port, string Database, string User, string? Password)
{
    public override string ToString() => $"{Database} on {Host}:{Port ?? 5432} as {User}"; // never the password
}

/// <summary>Commands run before and after each backup of a folder (as the portal's user), each within the timeout.</summary>
public sealed record ScriptSettings(string? PreScript, string? PostScript, int? TimeoutSeconds = null);

/// <summary>
/// What changes on a protected item: its policy, and for files and folders its folder (on the same host or machine),
/// include and exclude patterns and pre/post-backup scripts. A null <see cref="SourcePath"/> or <see cref="Scripts"/>
/// leaves it as it is; the patterns given replace the item's (null: none).
/// </summary>
public sealed record EditItemRequest(
    Guid PolicyId,
    string? SourcePath = null,
    IReadOnlyList<string>? Include = null,
    IReadOnlyList<string>? Exclude = null,
    ScriptSettings? Scripts = null);

/// <summary>Another item that protects the same folder, a folder inside it, or one around it, on the same host or machine.</summary>
public sealed record OverlappingItem(Guid Id, string Name, string Vault, string SourcePath, string Warning)
{
    /// <summary>The overlap of an item at <paramref name="itemPath"/> with the folder <paramref name="path"/>, in one sentence.</summary>
    public static OverlappingItem Of(Guid id, string name, string vault, string itemPath, string path) => new(id, name, vault, itemPath,
        itemPath == path ? $"{name} (vault {vault}) already protects {itemPath}."
        : itemPath.StartsWith(path.TrimEnd('/') + "/", StringComparison.Ordinal) ? $"{name} (vault {vault}) protects {itemPath}, inside {path}."
        : $"{name} (vault {vault}) protects {itemPath}, which contains {path}.");
}

/// <summary>Which items to list.</summary>
public sealed record ItemQuery(Guid? VaultId = null, string? Search = null, ProtectionState? State = null, int PageIndex = 0, int PageSize = 25, ItemHealth? Health = null);

/// <summary>Azure Backup's item health.</summary>
public enum ItemHealth
{
    Healthy,

    /// <summary>No recovery point yet, and the policy's first scheduled backup is still to come (or there is no schedule).</summary>
    NotBackedUpYet,
    Warning,

    /// <summary>No recovery point yet although the policy's first scheduled backup time has passed: a warning.</summary>
    FirstBackupOverdue,
    RpoBreached,
    Failed,
    ProtectionStopped,
}

/// <summary>One row of the items list.</summary>
public sealed record ItemSummary(
    Guid Id,
    string Name,
    string Kind,
    Guid VaultId,
    string VaultName,
    string? PolicyName,
    ProtectionState State,
    string SourcePath,
    JobStatus? LastBackupStatus,
    DateTime? LastBackupAt,
    DateTime? NextScheduledAt,
    DateTime? LatestRecoveryPointAt,
    ItemHealth Health,
    Guid? MachineId = null,
    string? MachineName = null)
{
    /// <summary>Where the item's data is, in words: "machine NAME" or "the portal host".</summary>
    public string Location => MachineId is null ? "the portal host" : $"machine {MachineName ?? "(unknown)"}";
}

/// <summary>A recovery point as the item page shows it.</summary>
public sealed record RecoveryPointSummary(
    Guid Id,
    string SnapshotId,
    DateTime CreatedAt,
    RecoveryPointType Type,
    RecoveryPointConsistency Consistency,
    long Files,
    long Bytes,
    long BytesAdded,
    DateTime? ExpiresAt,
    DateTime? RetainUntil,
    IReadOnlyList<string> Regions)
{
    public string ShortId => SnapshotId.Length > 8 ? SnapshotId[..8] : SnapshotId;
}

/// <summary>An item with its recovery points and recent jobs.</summary>
public sealed record ItemDetails(
    ItemSummary Item,
    Guid? PolicyId,
    string? PolicyDescription,
    IReadOnlyList<string> Include,
    IReadOnlyList<string> Exclude,
    DateTime CreatedAt,
    string CreatedBy,
    DateTime? ProtectionStoppedAt,
    DateTime? SoftDeletedAt,
    DateTime? PurgeAfter,
    IReadOnlyList<RecoveryPointSummary> RecoveryPoints,
    IReadOnlyList<Job> RecentJobs,
    uint Version,
    ItemWorkload? Workload = null)
{
    /// <summary>For a protected item with a policy: the age of its newest recovery point against the policy's target, and
    /// the share of the last 30 days it was within target plus grace (null when it does not apply).</summary>
    public ItemRpo? Rpo { get; init; }
}

/// <summary>
/// An item's recovery point objective now (see <see cref="RpoCompliance"/>). Without a recovery point, <see cref="Now"/>
/// is the time since protection, <see cref="Compliance30Days"/> is null (nothing to measure yet) and
/// <see cref="FirstBackupDue"/> says when the policy's first scheduled backup was or is due.
/// </summary>
public sealed record ItemRpo(TimeSpan Now, TimeSpan Target, double? Compliance30Days, bool HasPoint = true, DateTime? FirstBackupDue = null);

/// <summary>What a database item protects, and a folder item's scripts (never the password).</summary>
public sealed record ItemWorkload(string? Database, string? PreScript, string? PostScript, int? ScriptTimeoutSeconds,
    string? DatabaseHost = null, int? DatabasePort = null, string? DatabaseName = null, string? DatabaseUser = null);
