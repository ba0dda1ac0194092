namespace Portal.Features.Alerts;

/// <summary>
/// One problem that needs someone, as Azure Backup's alerts show it: raised once per problem (its <see cref="Key"/>),
/// counted when it happens again while active, resolved automatically when the condition clears or by a person.
/// Every alert says what happened (<see cref="Cause"/>) and what to do (<see cref="NextStep"/>).
/// </summary>
public sealed class Alert
{
    public Guid Id { get; set; }

    /// <summary>What the problem is about, e.g. <c>backup-failed:{itemId}</c>: at most one active alert per key.</summary>
    public string Key { get; set; } = "";

    /// <summary>One of <see cref="AlertKinds"/>.</summary>
    public string Kind { get; set; } = "";

    public AlertSeverity Severity { get; set; }
    public AlertState State { get; set; } = AlertState.Active;

    public Guid? VaultId { get; set; }
    public string? VaultName { get; set; }
    public Guid? ItemId { get; set; }
    public string? ItemName { get; set; }

    /// <summary>The job of the latest occurrence, if a job raised it.</summary>
    public Guid? JobId { get; set; }

    /// <summary>Where in the portal to look (relative, e.g. <c>jobs/{id}</c>).</summary>
    public string? Link { get; set; }

    /// <summary>One line, e.g. "Backup of 'finance' failed".</summary>
    public string Title { get; set; } = "";

    /// <summary>What happened: the error, the path, the job.</summary>
    public string Cause { get; set; } = "";

    /// <summary>What to do about it, in an operator's words.</summary>
    public string NextStep { get; set; } = "";

    public DateTime FirstRaisedAt { get; set; }
    public DateTime LastRaisedAt { get; set; }

    /// <summary>How many times the problem happened while this alert was active (1 when raised).</summary>
    public int Occurrences { get; set; } = 1;

    public DateTime? ResolvedAt { get; set; }

    /// <summary><see cref="AlertService.Automatically"/>, or the name of the person who resolved it.</summary>
    public string? ResolvedBy { get; set; }

    /// <summary>Why it was resolved, e.g. "The next backup succeeded (job …)".</summary>
    public string? Resolution { get; set; }

    public DateTime? AcknowledgedAt { get; set; }
    public string? AcknowledgedBy { get; set; }

    public uint Version { get; set; }
}

/// <summary>Azure Backup's alert severities.</summary>
public enum AlertSeverity
{
    Information,
    Warning,
    Critical,
}

public enum AlertState
{
    Active,
    Resolved,
}

/// <summary>What raises alerts; each kind's key names the thing it is about.</summary>
public static class AlertKinds
{
    public const string BackupFailed = "BackupFailed";
    public const string BackupWarnings = "BackupWarnings";
    public const string RestoreFailed = "RestoreFailed";
    public const string RestoreWarnings = "RestoreWarnings";
    public const string RpoBreached = "RpoBreached";
    public const string ReplicationLag = "ReplicationLag";
    public const string ReplicationFailed = "ReplicationFailed";
    public const string IntegrityCheckFailed = "IntegrityCheckFailed";
    public const string DrillFailed = "DrillFailed";
    public const string RtoMissed = "RtoMissed";
    public const string DrillOverdue = "DrillOverdue";
    public const string RetentionFailed = "RetentionFailed";
    public const string SoftDeleteDisabled = "SoftDeleteDisabled";
    public const string BackupDataDeleted = "BackupDataDeleted";
    public const string CriticalOperationRequested = "CriticalOperationRequested";
    public const string CriticalOperationApproved = "CriticalOperationApproved";
    public const string ReplicaDataLost = "ReplicaDataLost";

    public static string Display(string kind) => kind switch
    {
        BackupFailed => "Backup failed",
        BackupWarnings => "Backup completed with warnings",
        RestoreFailed => "Restore failed",
        RestoreWarnings => "Restore completed with warnings",
        RpoBreached => "RPO breached",
        DrillFailed => "Restore drill failed",
        RtoMissed => "RTO target missed",
        DrillOverdue => "Not proven recoverable lately",
        ReplicationLag => "Replication lag",
        ReplicationFailed => "Replication failed",
        IntegrityCheckFailed => "Integrity check failed",
        RetentionFailed => "Retention run failed",
        SoftDeleteDisabled => "Soft delete disabled",
        BackupDataDeleted => "Backup data deleted",
        CriticalOperationRequested => "Critical operation requested",
        CriticalOperationApproved => "Critical operation approved",
        ReplicaDataLost => "Data lost in every replica",
        _ => kind,
    };

    public static readonly IReadOnlyList<string> All =
    [
        BackupFailed, BackupWarnings, RestoreFailed, RestoreWarnings, RpoBreached, ReplicationLag, ReplicationFailed,
        IntegrityCheckFailed, RetentionFailed, SoftDeleteDisabled, BackupDataDeleted, CriticalOperationRequested, CriticalOperationApproved,
        ReplicaDataLost, DrillFailed, RtoMissed, DrillOverdue,
    ];
}

/// <summary>What a feature says when it raises an alert; the service dedupes by <see cref="Key"/>.</summary>
public sealed record AlertInput(string Key, string Kind, AlertSeverity Severity, string Title, string Cause, string NextStep)
{
    public Guid? VaultId { get; init; }
    public string? VaultName { get; init; }
    public Guid? ItemId { get; init; }
    public string? ItemName { get; init; }
    public Guid? JobId { get; init; }
    public string? Link { get; init; }
}
