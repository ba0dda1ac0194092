using Microsoft.EntityFrameworkCore;
using Portal.Engine.Operations;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Data;
using EngineStatus = Portal.Engine.Progress.OperationStatus;
using JobStatus = Portal.Features.Jobs.JobStatus;

namespace Portal.Features.Protection;

/// <summary>A backup of one item: scheduled (at the policy's times) or on demand (kept until <paramref name="RetainUntil"/>).</summary>
public sealed record BackupInput(Guid ItemId, RecoveryPointType Type, DateTime? RetainUntil = null);

/// <summary>
/// A backup of an item as a job: opens the vault with its sealed key, backs the folder (or the database's dump) up
/// through the engine, records the recovery point and the item's last backup, and says what happened and what to do.
/// Resumable: the recovery point is tagged with the job, so an attempt after a takeover finds the point an
/// interrupted attempt already made (never two points for one job), or backs up again reusing every pack uploaded.
/// </summary>
public sealed class BackupJob(
    IDbContextFactory<PortalDbContext> dbFactory,
    VaultKeys keys,
    IDatabaseWorkload databases,
    ItemScripts scripts,
    TimeProvider clock) : JobHandler<BackupInput>
{
    public override string Name => "backup";

    public override JobKind Kind => JobKind.Backup;

    protected override string Noun => "backup";

    public override string ConcurrencyKey(BackupInput input) => $"backup/{input.ItemId:N}";

    public static string JobTag(Guid jobId) => $"job:{jobId:N}";

    public override async Task<JobOutcome> RunAsync(BackupInput input, JobRun run, CancellationToken ct)
    {
        BackupItem? item;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (run.Attempt > 1 && await db.RecoveryPoints.AsNoTracking().FirstOrDefaultAsync(p => p.JobId == run.JobId, ct) is { } made)
                return JobOutcome.Completed($"Recovery point {made.SnapshotId[..8]} was recorded by an earlier attempt of this job.");
            item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == input.ItemId, ct);
        }

        if (item is null)
            return JobOutcome.Failed("The backup item no longer exists.");
        var vault = item.Vault!;
        var tags = new[] { $"item:{item.Id:N}", input.Type == RecoveryPointType.OnDemand ? "on-demand" : "scheduled", JobTag(run.JobId) };
        // A database's versions are checked before anything runs (not even the vault is opened).
        var database = item.Kind == BackupItemKinds.PostgreSql ? await databases.PrepareBackupAsync(item, run, ct) : null;
        using var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region, ct);
        var scriptWarnings = new List<string>();
        BackupResult result;
        RecoveryPointConsistency consistency;
        if (run.Attempt > 1 && await EarlierAttemptAsync(engine, run, ct) is { } earlier)
        {
            // The interrupted attempt wrote its snapshot but died before recording it: record that one, do not make a second.
            await run.LogAsync(JobLogLevel.Info, $"An earlier attempt of this job wrote recovery point {earlier.Id[..8]} before it stopped; it is recorded as this job's point.");
            // Its scripts' outcome died with it: the point is recorded as crash-consistent, the honest floor.
            return await RecordAsync(item, input, run, new Recorded(earlier.Id, earlier.Files, earlier.Bytes, earlier.BytesAdded, 0, 0, [],
                earlier.Status == EngineStatus.Completed), RecoveryPointConsistency.CrashConsistent, [], database?.Display);
        }

        if (database is not null)
        {
            result = await database.BackupAsync(engine, run, tags, ct);
            consistency = RecoveryPointConsistency.ApplicationConsistent; // pg_dump reads one consistent snapshot of the database
        }
        else
        {
            (result, consistency) = await BackUpFilesAsync(item, engine, run, tags, scriptWarnings, ct);
        }

        var recorded = new Recorded(result.SnapshotId, result.Files, result.Bytes, result.BytesAdded, result.FilesRead, result.FilesUnchanged, result.Warnings,
            result.Status == EngineStatus.Completed);
        return await RecordAsync(item, input, run, recorded, consistency, scriptWarnings, database?.Display);
    }

    private static async Task<SnapshotInfo?> EarlierAttemptAsync(Engine.BackupEngine engine, JobRun run, CancellationToken ct) =>
        (await engine.FindSnapshotsByTagAsync(JobTag(run.JobId), cancellationToken: ct)).FirstOrDefault();

    private sealed record Recorded(
        string SnapshotId, long Files, long Bytes, long BytesAdded, long FilesRead, long FilesUnchanged, IReadOnlyList<string> Warnings, bool Clean = true);

    private async Task<JobOutcome> RecordAsync(BackupItem item, BackupInput input, JobRun run, Recorded result, RecoveryPointConsistency consistency,
        List<string> scriptWarnings, string? database)
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
                Warnings = warnings.Count, JobId = run.JobId, Consistency = consistency,
            });
            await db.BackupItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(s => s
                .SetProperty(i => i.LastBackupStatus, status).SetProperty(i => i.LastBackupAt, now)
                .SetProperty(i => i.LastBackupJobId, run.JobId).SetProperty(i => i.LatestRecoveryPointAt, now), CancellationToken.None);
            await db.SaveChangesAsync(CancellationToken.None);
        }

        var summary = database is not null
            ? $"Recovery point {result.SnapshotId[..8]} (application-consistent): a {Format(result.Bytes)} dump of {database}; added {Format(result.BytesAdded)} to the vault."
            : $"Recovery point {result.SnapshotId[..8]} ({Describe(consistency)}): {result.Files:N0} files, {Format(result.Bytes)}; read {result.FilesRead:N0} new or changed files, " +
              $"{result.FilesUnchanged:N0} unchanged; added {Format(result.BytesAdded)} to the vault.";
        await run.LogAsync(JobLogLevel.Info, summary);
        if (result.Warnings.Count > 0)
            await run.LogAsync(JobLogLevel.Warning, result.Warnings);
        var explanation = string.Join(" ", scriptWarnings) + (result.Warnings.Count > 0
            ? $" {result.Warnings.Count} item(s) could not be read and are not in this recovery point; the log lists each with its path. Check their permissions on the portal host."
            : "");
        return new JobOutcome(status, status == JobStatus.Completed ? summary : explanation.Trim() + " " + summary);
    }

    /// <summary>
    /// A files-and-folders backup between the item's scripts: the pre-backup script's success makes the point
    /// application-consistent; its failure (or timeout) leaves it file-system consistent with a warning naming the exit
    /// code, and the backup goes on. The post-backup script always runs, even when the backup failed or was cancelled.
    /// </summary>
    private async Task<(BackupResult, RecoveryPointConsistency)> BackUpFilesAsync(BackupItem item, Engine.BackupEngine engine, JobRun run,
        string[] tags, List<string> scriptWarnings, CancellationToken ct)
    {
        var consistency = RecoveryPointConsistency.FileSystemConsistent;
        var timeout = scripts.TimeoutFor(item.ScriptTimeoutSeconds);
        try
        {
            if (!string.IsNullOrWhiteSpace(item.PreScript))
            {
                var pre = await scripts.RunAsync(run, "pre-backup", item.PreScript, item.SourcePath, timeout, ct);
                if (pre.Succeeded)
                    consistency = RecoveryPointConsistency.ApplicationConsistent;
                else
                    scriptWarnings.Add(pre.Describe() + " The backup went on: this recovery point is file-system consistent, not application-consistent.");
            }

            var request = new BackupRequest(item.SourcePath) { Filter = PathFilter.Create(item.Include, item.Exclude), Tags = tags };
            return (await engine.BackupAsync(request, run.Progress, ct), consistency);
        }
        finally
        {
            if (!string.IsNullOrWhiteSpace(item.PostScript))
            {
                var post = await scripts.RunAsync(run, "post-backup", item.PostScript, item.SourcePath, timeout, CancellationToken.None);
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

    /// <summary>A failed backup is the item's last backup (its health shows it); one a user cancelled leaves the item as it was.</summary>
    protected override async Task AbandonedAsync(BackupInput input, JobRun run, JobStatus status)
    {
        if (status == JobStatus.Cancelled)
            return;
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var now = clock.GetUtcNow().UtcDateTime;
        await db.BackupItems.Where(i => i.Id == input.ItemId).ExecuteUpdateAsync(s => s
            .SetProperty(i => i.LastBackupStatus, status).SetProperty(i => i.LastBackupAt, now).SetProperty(i => i.LastBackupJobId, run.JobId));
    }

    protected override string Cancelled(BackupInput input) =>
        "Cancelled. What this backup uploaded stays in the vault and the next backup reuses it; no recovery point was made.";

    protected override string AfterUnexpected => "Nothing half-written is visible; the portal's log has the details.";

    /// <summary>What went wrong and what to do, for the failures a backup can meet; null for bugs.</summary>
    protected override string? Explain(Exception e, BackupInput input) => Explain(e, SourceOf(input));

    private string? SourceOf(BackupInput input)
    {
        using var db = dbFactory.CreateDbContext();
        return db.BackupItems.AsNoTracking().Where(i => i.Id == input.ItemId).Select(i => i.SourcePath).FirstOrDefault();
    }

    internal static string? Explain(Exception e, string? source) => e switch
    {
        DirectoryNotFoundException => $"The folder {source} does not exist on the portal host (any more). Restore it or change the item's folder, then back up again.",
        UnauthorizedAccessException => $"The portal cannot read {source}: {e.Message} Give the portal's user read access.",
        Engine.RepositoryLockedException => $"{e.Message} Another operation (a retention run's prune) holds the vault; the backup will run at its next time, or start it again later.",
        IOException => $"Reading the folder failed: {e.Message}",
        _ => VaultFailures.Explain(e, "the next backup reuses what was uploaded"),
    };

    internal static string Format(long bytes) => Common.Format.Bytes(bytes);
}
