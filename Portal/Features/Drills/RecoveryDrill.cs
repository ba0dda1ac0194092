namespace Portal.Features.Drills;

/// <summary>
/// One restore drill of a backup item: a recovery point restored into a scratch folder, every restored file checked
/// against the point's listing, the scratch copy deleted, and the time it took. The evidence an auditor asks for.
/// </summary>
public sealed class RecoveryDrill
{
    public Guid Id { get; set; }
    public Guid ItemId { get; set; }
    public Guid VaultId { get; set; }
    public Guid? JobId { get; set; }

    /// <summary>The engine snapshot drilled (the point's row may be gone later; the evidence stays).</summary>
    public string SnapshotId { get; set; } = "";
    public DateTime PointCreatedAt { get; set; }

    public DateTime StartedAt { get; set; }
    public DateTime FinishedAt { get; set; }
    public DrillResult Result { get; set; }

    /// <summary>Files and bytes restored and verified (size and modification time against the point's listing; content by the engine).</summary>
    public long FilesVerified { get; set; }
    public long BytesVerified { get; set; }

    /// <summary>Files and bytes in the whole point: what a full restore would write.</summary>
    public long FilesInPoint { get; set; }
    public long BytesInPoint { get; set; }

    /// <summary>The restore's own time (not the verification's), and the full restore it extrapolates to (RTO measured).</summary>
    public double RestoreSeconds { get; set; }
    public double EstimatedFullRestoreSeconds { get; set; }

    /// <summary>What was verified, or the cause of a failure, in words.</summary>
    public string Detail { get; set; } = "";
    public string RequestedBy { get; set; } = "";

    /// <summary>What was restored, in words: "whole", "5 files", "1 GiB".</summary>
    public string Sample { get; set; } = "whole";

    /// <summary>Where a sampled drill stopped in the item's shuffled file order: the next drill goes on from here.</summary>
    public string? SampleCursor { get; set; }

    /// <summary>Who last set the drill schedule in force (the policy's or the item's), empty without one.</summary>
    public string ConfiguredBy { get; set; } = "";

    /// <summary>The RTO target in force when the drill ran, in seconds; null without one.</summary>
    public double? RtoTargetSeconds { get; set; }
}

public enum DrillResult
{
    Passed,
    Failed,
}
