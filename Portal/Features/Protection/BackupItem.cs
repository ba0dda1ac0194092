using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Vaults;

namespace Portal.Features.Protection;

/// <summary>Something a vault protects: a folder on the portal host or a PostgreSQL database, backed up by a policy.</summary>
public sealed class BackupItem
{
    public Guid Id { get; set; }
    public Guid VaultId { get; set; }
    public Vault? Vault { get; set; }
    public string Name { get; set; } = "";
    public string Kind { get; set; } = BackupItemKinds.FilesAndFolders;
    public ProtectionState State { get; set; } = ProtectionState.Protected;

    /// <summary>The policy that schedules and retains this item's backups (null only for items made before policies).</summary>
    public Guid? PolicyId { get; set; }
    public BackupPolicy? Policy { get; set; }

    /// <summary>For files and folders on a registered machine: the machine (its agent backs the folder up); null: the portal host.</summary>
    public Guid? MachineId { get; set; }

    /// <summary>For files and folders: the absolute folder that is backed up, on the portal host or on <see cref="MachineId"/>.</summary>
    public string SourcePath { get; set; } = "";

    /// <summary>Glob patterns: when any are given only matching files are backed up.</summary>
    public List<string> Include { get; set; } = [];

    /// <summary>Glob patterns of files and folders that are not backed up.</summary>
    public List<string> Exclude { get; set; } = [];

    /// <summary>For files and folders: a command run (as the portal's user, by /bin/sh) before the backup; on success the recovery point is application-consistent.</summary>
    public string? PreScript { get; set; }

    /// <summary>For files and folders: a command run after the backup, whatever happened.</summary>
    public string? PostScript { get; set; }

    /// <summary>How long each script may run before it is stopped (null: <see cref="ItemScripts.DefaultTimeout"/>).</summary>
    public int? ScriptTimeoutSeconds { get; set; }

    /// <summary>For PostgreSQL databases: where the database is and who signs in (the password is kept sealed).</summary>
    public string? DatabaseHost { get; set; }
    public int? DatabasePort { get; set; }
    public string? DatabaseName { get; set; }
    public string? DatabaseUser { get; set; }

    /// <summary>The database password sealed with ASP.NET Core Data Protection (as vault keys are); never stored in plain text.</summary>
    public byte[]? SealedDatabasePassword { get; set; }

    /// <summary>
    /// For PostgreSQL databases: one statement a restore drill runs on the restored copy (read-only, within a timeout),
    /// such as <c>select count(*) from orders</c>; its answer goes into the drill's evidence. Null: none.
    /// </summary>
    public string? DrillCheckQuery { get; set; }

    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";

    /// <summary>The last backup job's outcome and time, and the newest good recovery point (for health and RPO).</summary>
    public JobStatus? LastBackupStatus { get; set; }
    public DateTime? LastBackupAt { get; set; }
    public Guid? LastBackupJobId { get; set; }
    public DateTime? LatestRecoveryPointAt { get; set; }

    public DateTime? ProtectionStoppedAt { get; set; }

    /// <summary>When the item's backup data was soft-deleted; it is purged after the vault's soft-delete days.</summary>
    public DateTime? SoftDeletedAt { get; set; }
    public uint Version { get; set; }
}

public static class BackupItemKinds
{
    public const string FilesAndFolders = "FilesAndFolders";
    public const string PostgreSql = "PostgreSql";

    /// <summary>
    /// Brought back from storage by attaching a vault, named only by its recovery points' tags (it was no longer in the vault
    /// manifest, or the data predates it): its points list and restore as files; it is not protected.
    /// </summary>
    public const string Recovered = "Recovered";

    public static string Display(string kind) => kind switch
    {
        FilesAndFolders => "Files and folders",
        PostgreSql => "PostgreSQL database",
        Recovered => "Recovered from storage",
        _ => kind,
    };
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
