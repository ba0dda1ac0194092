using Portal.Features.Jobs;

namespace Portal.Features.Alerts;

/// <summary>
/// Turns job outcomes into alerts: a failed or partly failed backup, restore, check, replication or retention run raises
/// one alert per item (or vault); the next successful run of the same kind resolves it. Cancelled jobs change nothing.
/// </summary>
public sealed class JobAlerts(AlertService alerts) : IJobOutcomeObserver
{
    public async Task JobFinishedAsync(Job job, CancellationToken ct)
    {
        var about = job.ItemId ?? job.VaultId;
        if (about is null || job.Status == JobStatus.Cancelled)
            return;
        var (failedKind, warningKind) = job.Kind switch
        {
            JobKind.Backup => (AlertKinds.BackupFailed, AlertKinds.BackupWarnings),
            JobKind.Restore => (AlertKinds.RestoreFailed, AlertKinds.RestoreWarnings),
            JobKind.Check => (AlertKinds.IntegrityCheckFailed, null),
            JobKind.Drill => (AlertKinds.DrillFailed, null),
            JobKind.Repair => (AlertKinds.IntegrityCheckFailed, null),
            JobKind.Replication => (AlertKinds.ReplicationFailed, null),
            _ => (AlertKinds.RetentionFailed, (string?)null),
        };
        var failedKey = Key(failedKind, about.Value);
        var warningKey = warningKind is null ? null : Key(warningKind, about.Value);
        var succeeded = $"The next {Noun(job.Kind)} succeeded ({Reference(job)}, {job.EndedAt:yyyy-MM-dd HH:mm} UTC).";

        switch (job.Status)
        {
            case JobStatus.Failed:
                await alerts.RaiseAsync(Input(job, failedKey, failedKind, job.Kind is JobKind.Replication or JobKind.Retention ? AlertSeverity.Warning : AlertSeverity.Critical,
                    $"{Subject(job)} failed"), ct);
                break;
            case JobStatus.CompletedWithWarnings:
                await alerts.ResolveAsync(failedKey, succeeded, ct);
                if (warningKey is not null)
                    await alerts.RaiseAsync(Input(job, warningKey, warningKind!, AlertSeverity.Warning, $"{Subject(job)} completed with warnings"), ct);
                if (job.Kind == JobKind.Backup && job.ItemId is { } warnedItem)
                    await alerts.ResolveAsync(Key(AlertKinds.RpoBreached, warnedItem), $"A new recovery point was made ({Reference(job)}).", ct);
                break;
            case JobStatus.Completed:
                await alerts.ResolveAsync(failedKey, succeeded, ct);
                if (warningKey is not null)
                    await alerts.ResolveAsync(warningKey, succeeded.Replace("succeeded", "completed without warnings"), ct);
                if (job.Kind == JobKind.Backup && job.ItemId is { } item)
                    await alerts.ResolveAsync(Key(AlertKinds.RpoBreached, item), $"A new recovery point was made ({Reference(job)}).", ct);
                break;
        }
    }

    /// <summary>The de-duplication key of <paramref name="kind"/> about an item or vault, e.g. <c>BackupFailed:{itemId}</c>.</summary>
    public static string Key(string kind, Guid about) => $"{kind}:{about:N}";

    private static AlertInput Input(Job job, string key, string kind, AlertSeverity severity, string title) =>
        new(key, kind, severity, title, Cause(job), NextStep(job))
        {
            VaultId = job.VaultId, VaultName = job.VaultName, ItemId = job.ItemId, ItemName = job.ItemId is null ? null : ItemName(job),
            JobId = job.Id, Link = $"jobs/{job.Id}",
        };

    private static string Subject(Job job) => job.Kind switch
    {
        JobKind.Backup => $"Backup of '{job.Subject}'",
        JobKind.Restore => $"Restore of '{ItemName(job)}'",
        JobKind.Check => $"Integrity check of vault '{job.VaultName}'",
        JobKind.Drill => $"Restore drill of '{job.Subject}'",
        JobKind.Repair => $"Index repair of vault '{job.VaultName}'",
        JobKind.Replication => $"Replication of vault '{job.VaultName}' {job.Subject}",
        _ => $"Retention run of vault '{job.VaultName}'",
    };

    private static string Cause(Job job) =>
        $"Job {job.Id.ToString()[..8]} {(job.Status == JobStatus.Failed ? "failed" : "completed with warnings")} at {job.EndedAt:yyyy-MM-dd HH:mm} UTC: " +
        (string.IsNullOrWhiteSpace(job.Message) ? "it gave no reason; its log has the details." : job.Message);

    private static string NextStep(Job job) => job.Kind switch
    {
        JobKind.Backup when job.Status == JobStatus.Failed =>
            $"Fix the cause above (the job's log lists every error with its path), then run Back up now on '{job.Subject}' or wait for its next scheduled backup. This alert resolves itself when a backup of '{job.Subject}' succeeds.",
        JobKind.Backup =>
            $"Open the job's log: it lists each file that was not backed up, with its path. Give the portal's user read access (or exclude the files), then back up again.",
        JobKind.Restore =>
            "Open the job's log for what could not be restored, fix it (space, permissions, the target folder), and run the restore again. This alert resolves itself when a restore of this item succeeds.",
        JobKind.Check =>
            "Open the check's log: it names the damaged recovery points and files. Back the affected items up again so new recovery points do not depend on them, then run the check again.",
        JobKind.Repair =>
            "Open the repair's log: it names each repository that could not be repaired and why (a running backup, an unreachable region). Repair again once that is fixed; the old index stays meanwhile, so nothing is lost.",
        JobKind.Drill =>
            $"The latest recovery point of '{job.Subject}' could not be proven restorable. Open the drill's log for each problem, run \"Check structure and read all data\" on the vault, " +
            "and back the item up again so a good point exists. This alert resolves itself when a drill of this item passes.",
        JobKind.Replication =>
            "Check that the paired region's storage is reachable. Backups are not affected; replication retries on its own and this alert resolves itself when a pass succeeds.",
        _ => "Open the job's log, fix what it names, and let the next retention run (hourly) try again; this alert resolves itself when one succeeds.",
    };

    private static string ItemName(Job job) => job.Subject.Split([" → ", ": download "], 2, StringSplitOptions.None)[0];

    private static string Reference(Job job) => $"job {job.Id.ToString()[..8]}";

    private static string Noun(JobKind kind) => kind switch
    {
        JobKind.Backup => "backup",
        JobKind.Restore => "restore",
        JobKind.Check => "integrity check",
        JobKind.Drill => "restore drill",
        JobKind.Repair => "index repair",
        JobKind.Replication => "replication pass",
        _ => "retention run",
    };
}
