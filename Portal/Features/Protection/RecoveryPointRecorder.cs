using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using JobStatus = Portal.Features.Jobs.JobStatus;

namespace Portal.Features.Protection;

/// <summary>
/// Records what a backup made, wherever it ran (the portal or a machine): the recovery point row, the item's last backup
/// and newest point, the job's log and its outcome in words.
/// </summary>
public sealed class RecoveryPointRecorder(IDbContextFactory<PortalDbContext> dbFactory, IEnumerable<Vaults.IVaultManifest> manifests, TimeProvider clock)
{
    /// <summary>
    /// What the backup made: the snapshot and its counts (files read and unchanged: null when the executor did not say);
    /// <paramref name="Clean"/> false when items were skipped; <paramref name="KeepUntil"/> the immutable vault's floor written in the snapshot.
    /// </summary>
    public sealed record Made(
        string SnapshotId, long Files, long Bytes, long BytesAdded, long? FilesRead, long? FilesUnchanged, IReadOnlyList<string> Warnings, bool Clean = true,
        DateTimeOffset? KeepUntil = null);

    /// <summary>Records the point and says how the job went (Completed, or CompletedWithWarnings with the warnings first).</summary>
    /// <param name="where">Where unreadable items must be fixed ("the portal host", "machine NAME").</param>
    public async Task<JobOutcome> RecordAsync(BackupItem item, BackupInput input, JobRun run, Made result, RecoveryPointConsistency consistency,
        IReadOnlyList<string> scriptWarnings, string? database, string where = "the portal host")
    {
        var warnings = scriptWarnings.Concat(result.Warnings).ToList();
        var status = result.Clean && scriptWarnings.Count == 0 ? JobStatus.Completed : JobStatus.CompletedWithWarnings;
        var now = clock.GetUtcNow().UtcDateTime;
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            db.RecoveryPoints.Add(new RecoveryPoint
            {
                Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = item.VaultId, SnapshotId = result.SnapshotId, CreatedAt = now, Type = input.Type,
                RetainUntil = input.RetainUntil, ExpiresAt = input.RetainUntil, Files = result.Files, Bytes = result.Bytes, BytesAdded = result.BytesAdded,
                Warnings = warnings.Count, JobId = run.JobId, Consistency = consistency, ImmutableUntil = result.KeepUntil?.UtcDateTime,
            });
            await db.BackupItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(s => s
                .SetProperty(i => i.LastBackupStatus, status).SetProperty(i => i.LastBackupAt, now)
                .SetProperty(i => i.LastBackupJobId, run.JobId).SetProperty(i => i.LatestRecoveryPointAt, now), CancellationToken.None);
            await db.SaveChangesAsync(CancellationToken.None);
        }

        // Every backup checks the vault manifest in the repository it wrote to (cheap when nothing changed): a missed write
        // after a change heals here. Only that one: the vault's other machines' repositories are not opened.
        await Vaults.VaultManifests.RefreshRepositoryAsync(manifests, item.VaultId, item.MachineId, CancellationToken.None);

        var summary = database is not null
            ? $"Recovery point {result.SnapshotId[..8]} (application-consistent): a {Format(result.Bytes)} dump of {database}; added {Format(result.BytesAdded)} to the vault."
            : $"Recovery point {result.SnapshotId[..8]} ({BackupJob.Describe(consistency)}): {result.Files:N0} files, {Format(result.Bytes)}; " +
              (result is { FilesRead: { } read, FilesUnchanged: { } unchanged } ? $"read {read:N0} new or changed files, {unchanged:N0} unchanged; " : "") +
              $"added {Format(result.BytesAdded)} to the vault.";
        await run.LogAsync(JobLogLevel.Info, summary);
        if (result.KeepUntil is { } keep)
            await run.LogAsync(JobLogLevel.Info, $"The vault is immutable: this recovery point cannot be removed before {keep.UtcDateTime:yyyy-MM-dd HH:mm} UTC, whoever asks.");
        if (result.Warnings.Count > 0)
            await run.LogAsync(JobLogLevel.Warning, result.Warnings);
        var explanation = string.Join(" ", scriptWarnings) + (result.Warnings.Count > 0
            ? $" {result.Warnings.Count} item(s) could not be read and are not in this recovery point; the log lists each with its path. Check their permissions on {where}."
            : "");
        return new JobOutcome(status, status == JobStatus.Completed ? summary : explanation.Trim() + " " + summary);
    }

    private static string Format(long bytes) => Common.Format.Bytes(bytes);
}

/// <summary>
/// A backup job that failed, wherever it ran and however it ended (its run failed, its executor went silent and the sweep
/// failed it, its machine stayed offline), is the item's last backup: the item's health shows it. A cancelled one leaves
/// the item as it was.
/// </summary>
internal sealed class ItemBackupOutcomes(IDbContextFactory<PortalDbContext> dbFactory) : IJobOutcomeObserver
{
    public async Task JobFinishedAsync(Job job, CancellationToken ct)
    {
        if (job.Kind != JobKind.Backup || job.ItemId is not { } itemId || job.Status != JobStatus.Failed)
            return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var at = job.EndedAt ?? job.HeartbeatAt;
        await db.BackupItems.Where(i => i.Id == itemId).ExecuteUpdateAsync(s => s
            .SetProperty(i => i.LastBackupStatus, JobStatus.Failed).SetProperty(i => i.LastBackupAt, at).SetProperty(i => i.LastBackupJobId, job.Id), ct);
    }
}
