using Microsoft.EntityFrameworkCore;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Features.Jobs;
using EngineStatus = Portal.Engine.Progress.OperationStatus;
using JobStatus = Portal.Features.Jobs.JobStatus;

namespace Portal.Features.Protection;

/// <summary>
/// Runs one backup of an item as a job: opens the vault with its sealed key, backs the folder up through the engine
/// with live progress (smoothed rate, current path, a heartbeat every <see cref="HeartbeatInterval"/> even when the
/// engine is quiet), records the recovery point and the item's last backup, and finishes the job with what happened
/// and what to do. A cancel (here or on another portal instance) stops it; what it uploaded stays and the next
/// backup reuses it.
/// </summary>
public sealed class BackupRunner(
    IDbContextFactory<PortalDbContext> dbFactory,
    VaultKeys keys,
    JobService jobs,
    Workloads.DatabaseBackup databases,
    Workloads.ItemScripts scripts,
    JobCancellation cancellation,
    TimeProvider clock,
    ILogger<BackupRunner> logger)
{
    public static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(30);

    /// <summary>Starts and runs a scheduled backup (the scheduler calls it at the policy's times).</summary>
    public async Task RunScheduledAsync(Guid itemId, CancellationToken stopping)
    {
        await using var db = await dbFactory.CreateDbContextAsync(stopping);
        var item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).Include(i => i.Policy).FirstOrDefaultAsync(i => i.Id == itemId, stopping);
        if (item is null || item.State != ProtectionState.Protected)
            return;
        var job = await jobs.StartAsync(JobKind.Backup, item.VaultId, item.Vault!.Name, item.Id, item.Name,
            $"schedule ({item.Policy?.Name ?? "policy"})", stopping);
        await RunAsync(job.Id, item.Id, RecoveryPointType.Scheduled, null, stopping);
    }

    /// <summary>Runs a queued "Back up now" job.</summary>
    public async Task RunOnDemandAsync(Guid jobId, Guid itemId, DateTime retainUntilUtc, CancellationToken stopping)
    {
        if (!await jobs.BeginAsync(jobId, stopping))
            return; // cancelled before it started
        await RunAsync(jobId, itemId, RecoveryPointType.OnDemand, retainUntilUtc, stopping);
    }

    private async Task RunAsync(Guid jobId, Guid itemId, RecoveryPointType type, DateTime? retainUntil, CancellationToken stopping)
    {
        using var registration = cancellation.Register(jobId, stopping);
        var ct = registration.Token;
        var tracker = new JobProgressTracker(jobId, jobs, clock, registration, logger);
        BackupItem? item = null;
        try
        {
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
                item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == itemId, ct);
            if (item is null)
            {
                await jobs.FinishAsync(jobId, JobStatus.Failed, "The backup item no longer exists.", CancellationToken.None);
                return;
            }

            var vault = item.Vault!;
            var tags = new[] { $"item:{item.Id:N}", type == RecoveryPointType.OnDemand ? "on-demand" : "scheduled" };
            // A database's versions are checked before anything runs (not even the vault is opened).
            var database = item.Kind == BackupItemKinds.PostgreSql ? await databases.PrepareAsync(item, jobId, ct) : null;
            using var heartbeat = tracker.StartHeartbeat(HeartbeatInterval);
            using var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region, ct);
            var scriptWarnings = new List<string>();
            BackupResult result;
            RecoveryPointConsistency consistency;
            if (database is not null)
            {
                result = await databases.BackupAsync(database, engine, jobId, tags, tracker.Throttled(ReportInterval), ct);
                consistency = RecoveryPointConsistency.ApplicationConsistent; // pg_dump reads one consistent snapshot of the database
            }
            else
            {
                (result, consistency) = await BackUpFilesAsync(item, engine, jobId, tags, tracker, scriptWarnings, ct);
            }

            await tracker.FlushAsync();
            var warnings = scriptWarnings.Concat(result.Warnings).ToList();
            var status = result.Status == EngineStatus.Completed && scriptWarnings.Count == 0 ? JobStatus.Completed : JobStatus.CompletedWithWarnings;

            var now = clock.GetUtcNow().UtcDateTime;
            var snapshotTime = now;
            await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
            {
                db.RecoveryPoints.Add(new RecoveryPoint
                {
                    Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = vault.Id, SnapshotId = result.SnapshotId, CreatedAt = snapshotTime, Type = type,
                    RetainUntil = retainUntil, ExpiresAt = retainUntil, Files = result.Files, Bytes = result.Bytes, BytesAdded = result.BytesAdded,
                    Warnings = warnings.Count, JobId = jobId, Consistency = consistency,
                });
                await db.BackupItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(i => i.LastBackupStatus, status).SetProperty(i => i.LastBackupAt, now)
                    .SetProperty(i => i.LastBackupJobId, jobId).SetProperty(i => i.LatestRecoveryPointAt, snapshotTime), CancellationToken.None);
                await db.SaveChangesAsync(CancellationToken.None);
            }

            var summary = database is not null
                ? $"Recovery point {result.SnapshotId[..8]} (application-consistent): a {Format(result.Bytes)} dump of {database.Display}; added {Format(result.BytesAdded)} to the vault."
                : $"Recovery point {result.SnapshotId[..8]} ({Describe(consistency)}): {result.Files:N0} files, {Format(result.Bytes)}; read {result.FilesRead:N0} new or changed files, " +
                  $"{result.FilesUnchanged:N0} unchanged; added {Format(result.BytesAdded)} to the vault.";
            await jobs.LogAsync(jobId, JobLogLevel.Info, summary, CancellationToken.None);
            if (result.Warnings.Count > 0)
                await jobs.LogAsync(jobId, JobLogLevel.Warning, result.Warnings, CancellationToken.None);
            var explanation = string.Join(" ", scriptWarnings) + (result.Warnings.Count > 0
                ? $" {result.Warnings.Count} item(s) could not be read and are not in this recovery point; the log lists each with its path. Check their permissions on the portal host."
                : "");
            await jobs.FinishAsync(jobId, status, status == JobStatus.Completed ? summary : explanation.Trim() + " " + summary, CancellationToken.None);
        }
        catch (OperationCanceledException) when (registration.Token.IsCancellationRequested)
        {
            await tracker.FlushAsync();
            var byUser = !stopping.IsCancellationRequested;
            // The item first: whoever sees the job finished then sees the item's health follow.
            await RecordFailureAsync(item, jobId, byUser ? null : JobStatus.Failed);
            await jobs.FinishAsync(jobId, byUser ? JobStatus.Cancelled : JobStatus.Failed, byUser
                ? "Cancelled. What this backup uploaded stays in the vault and the next backup reuses it; no recovery point was made."
                : "The portal stopped while this backup ran. What it uploaded stays in the vault and the next backup reuses it; run it again.", CancellationToken.None);
        }
        catch (Exception e) when (Explain(e, item) is { } message)
        {
            await tracker.FlushAsync();
            logger.LogWarning("Backup job {Job} of item {Item} failed: {Reason}", jobId, itemId, e.Message);
            await jobs.LogAsync(jobId, JobLogLevel.Error, message, CancellationToken.None);
            await RecordFailureAsync(item, jobId, JobStatus.Failed);
            await jobs.FinishAsync(jobId, JobStatus.Failed, message, CancellationToken.None);
        }
        catch (Exception e)
        {
            // A bug, not a condition we know: the job must still end (never "in progress" until the reaper), and say where to look.
            logger.LogError(e, "Backup job {Job} of item {Item} failed unexpectedly", jobId, itemId);
            await tracker.FlushAsync();
            await RecordFailureAsync(item, jobId, JobStatus.Failed);
            await jobs.FinishAsync(jobId, JobStatus.Failed,
                $"The backup stopped on an unexpected error ({e.GetType().Name}: {e.Message}). Nothing half-written is visible; the portal's log has the details.",
                CancellationToken.None);
        }
    }

    /// <summary>
    /// A files-and-folders backup between the item's scripts: the pre-backup script's success makes the point
    /// application-consistent; its failure (or timeout) leaves it file-system consistent with a warning naming the exit
    /// code, and the backup goes on. The post-backup script always runs, even when the backup failed or was cancelled.
    /// </summary>
    private async Task<(BackupResult, RecoveryPointConsistency)> BackUpFilesAsync(BackupItem item, Portal.Engine.BackupEngine engine, Guid jobId,
        string[] tags, JobProgressTracker tracker, List<string> scriptWarnings, CancellationToken ct)
    {
        var consistency = RecoveryPointConsistency.FileSystemConsistent;
        var timeout = scripts.TimeoutFor(item.ScriptTimeoutSeconds);
        try
        {
            if (!string.IsNullOrWhiteSpace(item.PreScript))
            {
                var pre = await scripts.RunAsync(jobId, "pre-backup", item.PreScript, item.SourcePath, timeout, ct);
                if (pre.Succeeded)
                    consistency = RecoveryPointConsistency.ApplicationConsistent;
                else
                    scriptWarnings.Add(pre.Describe() + " The backup went on: this recovery point is file-system consistent, not application-consistent.");
            }

            var request = new BackupRequest(item.SourcePath) { Filter = PathFilter.Create(item.Include, item.Exclude), Tags = tags };
            return (await engine.BackupAsync(request, tracker.Throttled(ReportInterval), ct), consistency);
        }
        finally
        {
            if (!string.IsNullOrWhiteSpace(item.PostScript))
            {
                var post = await scripts.RunAsync(jobId, "post-backup", item.PostScript, item.SourcePath, timeout, CancellationToken.None);
                if (!post.Succeeded)
                    scriptWarnings.Add(post.Describe());
            }
        }
    }

    internal static string Describe(RecoveryPointConsistency consistency) => consistency switch
    {
        RecoveryPointConsistency.ApplicationConsistent => "application-consistent",
        RecoveryPointConsistency.FileSystemConsistent => "file-system consistent",
        _ => "crash-consistent",
    };

    private async Task RecordFailureAsync(BackupItem? item, Guid jobId, JobStatus? status)
    {
        if (item is null || status is null)
            return;
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var now = clock.GetUtcNow().UtcDateTime;
        await db.BackupItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(s => s
            .SetProperty(i => i.LastBackupStatus, status).SetProperty(i => i.LastBackupAt, now).SetProperty(i => i.LastBackupJobId, jobId));
    }

    /// <summary>What went wrong and what to do, for the failures a backup can meet; null for bugs (they propagate).</summary>
    internal static string? Explain(Exception e, BackupItem? item) => e switch
    {
        VaultLockedException => e.Message,
        Common.PortalException => e.Message,
        DirectoryNotFoundException => $"The folder {item?.SourcePath} does not exist on the portal host (any more). Restore it or change the item's folder, then back up again.",
        UnauthorizedAccessException => $"The portal cannot read {item?.SourcePath}: {e.Message} Give the portal's user read access.",
        RepositoryLockedException => $"{e.Message} Another operation (a retention run's prune) holds the vault; the backup will run at its next time, or start it again later.",
        RepositoryException => $"The vault's backup data could not be used: {e.Message} Run a check of the vault.",
        Portal.Engine.Storage.StoreException => $"The vault's storage failed: {e.Message} Check that the region's replicas are reachable; nothing half-written is visible, and the next backup reuses what was uploaded.",
        IOException => $"Reading the folder failed: {e.Message}",
        _ => null,
    };

    internal static string Format(long bytes) => Portal.Components.Shared.Format.Bytes(bytes);
}
