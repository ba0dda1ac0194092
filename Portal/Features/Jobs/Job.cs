using Portal.Features.Common;
namespace Portal.Features.Jobs;

/// <summary>One run of an operation (backup, restore, retention, check, replication), as Azure Backup shows jobs.</summary>
public sealed class Job
{
    public Guid Id { get; set; }
    public JobKind Kind { get; set; }
    public JobStatus Status { get; set; } = JobStatus.Queued;
    public Guid? VaultId { get; set; }
    public string VaultName { get; set; } = "";

    /// <summary>The backup item the job works on, if any.</summary>
    public Guid? ItemId { get; set; }

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

    /// <summary>The file being worked on, relative to the item's folder.</summary>
    public string? CurrentPath { get; set; }

    /// <summary>Smoothed transfer rate, for a steady ETA.</summary>
    public double? BytesPerSecond { get; set; }

    /// <summary>When bytes or files last moved forward (a job whose heartbeat goes on without this moving is stalled).</summary>
    public DateTime? ProgressAt { get; set; }

    /// <summary>
    /// The outcome in words: what went wrong and what to do for failed jobs, the warnings of completed-with-warnings
    /// ones, a summary (what was backed up or restored) for completed ones; the cancel request while Cancelling.
    /// </summary>
    public string? Message { get; set; }

    /// <summary>Which <see cref="JobHandler{TInput}"/> runs it (its stable <see cref="IJobHandler.Name"/>), for a job the pipeline runs.</summary>
    public string? Operation { get; set; }

    /// <summary>The handler's typed input as JSON: everything a portal instance (or machine) needs to run or resume the job.</summary>
    public string? Input { get; set; }

    /// <summary>Jobs with the same key run one at a time, oldest first (one backup of an item at a time).</summary>
    public string? ConcurrencyKey { get; set; }

    /// <summary>How many times a portal instance (or machine) has started this job: 2 and more after a takeover.</summary>
    public int Attempt { get; set; }

    /// <summary>The executor running it now (or last): a portal instance (<c>portal/HOST/ID</c>) or a machine (<c>machine/ID</c>).</summary>
    public string? RunBy { get; set; }

    /// <summary>
    /// The machine that runs the job (an agent claims it through its connection), or null for a job portal instances run.
    /// </summary>
    public Guid? MachineId { get; set; }

    public uint Version { get; set; }

    /// <summary>Seconds left at the smoothed rate, when the total is known.</summary>
    public double? EtaSeconds => BytesTotal is { } total && BytesPerSecond is > 0 and var rate && total >= BytesDone
        ? (total - BytesDone) / rate
        : null;

    /// <summary>How long a running job has made no progress (null when not running or moving).</summary>
    public TimeSpan? StalledFor(DateTime nowUtc) =>
        Status is JobStatus.InProgress && (ProgressAt ?? StartedAt) is { } since && nowUtc - since >= StallThreshold ? nowUtc - since : null;

    /// <summary>No progress for this long is shown as a warning on a running job.</summary>
    public static readonly TimeSpan StallThreshold = TimeSpan.FromMinutes(5);
}

/// <summary>One line of a job's log: what it did, each warning with its path, each error with what to do.</summary>
public sealed class JobLogEntry
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public DateTime At { get; set; }
    public JobLogLevel Level { get; set; }
    public string Text { get; set; } = "";
}

public enum JobLogLevel
{
    Info,
    Warning,
    Error,
}

public enum JobKind
{
    Backup,
    Restore,
    Retention,
    Check,
    Replication,

    /// <summary>A region's replica scrub (no vault: it covers every vault in the region).</summary>
    Scrub,

    /// <summary>A restore drill: a recovery point restored into a scratch folder, verified and deleted.</summary>
    Drill,

    /// <summary>A repair of a vault's repositories (the index rebuilt from the packs).</summary>
    Repair,
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
    /// <summary>The status as people read it ("In progress", not "InProgress").</summary>
    public static string Words(this JobStatus status) => EnumWords.Split(status.ToString());

    public static bool IsFinished(this JobStatus status) =>
        status is JobStatus.Completed or JobStatus.CompletedWithWarnings or JobStatus.Failed or JobStatus.Cancelled;
}
