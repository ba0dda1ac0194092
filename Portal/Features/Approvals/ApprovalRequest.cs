namespace Portal.Features.Approvals;

/// <summary>
/// A critical operation waiting for a second Backup.Contributor (Azure's multi-user authorization):
/// requested by one person, approved or rejected by another within 24 hours, both names kept.
/// </summary>
public sealed class ApprovalRequest
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public Guid Id { get; set; }

    /// <summary>What will run on approval, one of <see cref="CriticalOperations"/>.</summary>
    public string Operation { get; set; } = "";

    public Guid ResourceId { get; set; }

    /// <summary>The resource as people read it, e.g. <c>vault/finance</c>.</summary>
    public string Resource { get; set; } = "";

    /// <summary>A plain-language summary shown to the approver.</summary>
    public string Summary { get; set; } = "";

    /// <summary>What the operation needs to run, as JSON (e.g. the proposed policy); null when the resource says it all.</summary>
    public string? Payload { get; set; }

    /// <summary>The resource's version when the request was made; the operation refuses to run if it changed since.</summary>
    public uint? ResourceVersion { get; set; }

    public string RequestedByObjectId { get; set; } = "";
    public string RequestedByName { get; set; } = "";
    public DateTime RequestedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public ApprovalStatus Status { get; set; } = ApprovalStatus.Pending;
    public string? DecidedByObjectId { get; set; }
    public string? DecidedByName { get; set; }
    public DateTime? DecidedAt { get; set; }

    public uint Version { get; set; }

    /// <summary>The status as of <paramref name="now"/>: a pending request past its expiry has expired.</summary>
    public ApprovalStatus StatusAt(DateTime now) =>
        Status == ApprovalStatus.Pending && now >= ExpiresAt ? ApprovalStatus.Expired : Status;
}

public enum ApprovalStatus
{
    Pending,
    Approved,
    Rejected,
    Cancelled,
    Expired,
}

/// <summary>The operations that need a second approver.</summary>
public static class CriticalOperations
{
    public const string DeleteVault = "DeleteVault";
    public const string DisableSoftDelete = "DisableSoftDelete";
    public const string ReducePolicyRetention = "ReducePolicyRetention";
    public const string StopProtectionDeleteData = "StopProtectionDeleteData";
    public const string LockImmutability = "LockImmutability";
    public const string RemoveSecondaryCopy = "RemoveSecondaryCopy";
}
