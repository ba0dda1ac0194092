namespace Portal.Features.Audit;

/// <summary>
/// One row of the audit log: when, who, what, on which resource, and the outcome. Rows are only ever
/// appended: the portal has no way to change or delete them, and a database trigger refuses it too.
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public string ActorObjectId { get; set; } = "";
    public string ActorName { get; set; } = "";
    public string Action { get; set; } = "";
    public string Resource { get; set; } = "";
    public AuditOutcome Outcome { get; set; }

    /// <summary>What a reader needs to know: the reason of a refusal, the approver of a request. Never a secret.</summary>
    public string? Detail { get; set; }
}

public enum AuditOutcome
{
    Succeeded,

    /// <summary>Refused by a rule, a role or a conflict; nothing changed.</summary>
    Refused,

    /// <summary>Failed unexpectedly.</summary>
    Failed,
}

/// <summary>The audited actions, as written in the log.</summary>
public static class AuditActions
{
    public const string SignIn = "SignIn";
    public const string SignOut = "SignOut";
    public const string VaultCreate = "Vault.Create";
    public const string VaultUpdate = "Vault.Update";
    public const string VaultDelete = "Vault.Delete";
    public const string VaultDeleteRequest = "Vault.Delete.Request";
    public const string VaultDisableSoftDelete = "Vault.DisableSoftDelete";
    public const string VaultDisableSoftDeleteRequest = "Vault.DisableSoftDelete.Request";
    public const string VaultSetImmutability = "Vault.Immutability";
    public const string VaultLockImmutability = "Vault.LockImmutability";
    public const string VaultLockImmutabilityRequest = "Vault.LockImmutability.Request";
    public const string VaultRemoveSecondary = "Vault.RemoveSecondaryCopy";
    public const string VaultRemoveSecondaryRequest = "Vault.RemoveSecondaryCopy.Request";
    public const string PolicyCreate = "Policy.Create";
    public const string PolicyUpdate = "Policy.Update";
    public const string PolicyReduceRetention = "Policy.ReduceRetention";
    public const string PolicyReduceRetentionRequest = "Policy.ReduceRetention.Request";
    public const string PolicyDelete = "Policy.Delete";
    public const string ApprovalApprove = "Approval.Approve";
    public const string ApprovalReject = "Approval.Reject";
    public const string ApprovalCancel = "Approval.Cancel";
    public const string AuditExport = "Audit.Export";
    public const string JobCancel = "Job.Cancel";
    public const string AlertRecipients = "Alerts.Recipients";
    public const string ItemProtect = "Item.Protect";
    public const string ItemUpdate = "Item.Update";
    public const string ItemBackupNow = "Item.BackupNow";
    public const string ItemBackupRetry = "Item.BackupRetry";
    public const string ItemStopProtection = "Item.StopProtection";
    public const string ItemDrill = "Item.Drill";
    public const string ItemDrillSchedule = "Item.DrillSchedule";
    public const string PolicyDrillSchedule = "Policy.DrillSchedule";
    public const string ItemStopProtectionDelete = "Item.StopProtection.DeleteData";
    public const string ItemStopProtectionDeleteRequest = "Item.StopProtection.DeleteData.Request";
    public const string ItemResume = "Item.ResumeProtection";
    public const string ItemUndelete = "Item.Undelete";
    public const string ItemPurge = "Item.Purge";
    public const string VaultUnlock = "Vault.Unlock";
    public const string VaultAttach = "Vault.Attach";
    public const string VaultCheck = "Vault.Check";
    public const string VaultScrub = "Vault.Scrub";
    public const string VaultBreakLock = "Vault.BreakLock";
    public const string VaultRepairIndex = "Vault.RepairIndex";
    public const string VaultVerify = "Vault.Verify";
    public const string VaultVerificationSettings = "Vault.VerificationSettings";
    public const string VaultReplicationThrottling = "Vault.ReplicationLimits";
    public const string VaultBackupUploadLimits = "Vault.BackupUploadLimits";
    public const string RestoreStart = "Restore.Start";
    public const string RestoreRetry = "Restore.Retry";
    public const string ItemDrillRetry = "Item.DrillRetry";
    public const string VaultVerifyRetry = "Vault.VerifyRetry";
    public const string RestoreDownload = "Restore.Download";
}
