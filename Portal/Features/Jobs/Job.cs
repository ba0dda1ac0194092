namespace Portal.Features.Jobs;

/// <summary>One run of an operation (backup, restore, retention, check, replication), as Azure Backup shows jobs.</summary>
public sealed class Job
{
    public Guid Id { get; set; }
    public JobKind Kind { get; set; }
    public JobStatus Status { get; set; } = JobStatus.Queued;
    public Guid? VaultId { get; set; }
    public string VaultName { get; set; } = "";

    /// <summary>The backup item, or what the job works on when there is no item (e.g. "to west").</summary>
    public string Subject { get; set; } = "";

    public string StartedBy { get; set; } = "";
    public DateTime QueuedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }

    /// <summary>Last sign of life from the portal instance running it; a job silent too long is marked failed.</summary>
    public DateTime HeartbeatAt { get; set; }

    public string Phase { get; set; } = "";
    public long BytesDone { get; set; }
    public long? BytesTotal { get; set; }
    public long FilesDone { get; set; }
    public long? FilesTotal { get; set; }

    /// <summary>What went wrong and what to do, for failed jobs; warnings for completed-with-warnings ones.</summary>
    public string? Message { get; set; }

    public uint Version { get; set; }
}

public enum JobKind
{
    Backup,
    Restore,
    Retention,
    Check,
    Replication,
}

/// <summary>Azure Backup's job statuses.</summary>
public enum JobStatus
{
    Queued,
    InProgress,
    Completed,
    CompletedWithWarnings,
    Failed,
    Cancelling,
    Cancelled,
}

public static class JobStatuses
{
    public static bool IsFinished(this JobStatus status) =>
        status is JobStatus.Completed or JobStatus.CompletedWithWarnings or JobStatus.Failed or JobStatus.Cancelled;
}
