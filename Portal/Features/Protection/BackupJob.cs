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
    RecoveryPointRecorder recorder,
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
            item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).Include(i => i.Policy).FirstOrDefaultAsync(i => i.Id == input.ItemId, ct);
        }

        if (item is null)
            return JobOutcome.Failed("The backup item no longer exists.");
        var vault = item.Vault!;
        var tags = ItemTags.For(item, input, run.JobId, item.Kind == BackupItemKinds.PostgreSql ? RecoveryPointConsistency.ApplicationConsistent : null);
        var keepUntil = ImmutableRetention.KeepUntil(vault, item.Policy, input, clock.GetUtcNow());
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
            return await recorder.RecordAsync(item, input, run, new RecoveryPointRecorder.Made(earlier.Id, earlier.Files, earlier.Bytes, earlier.BytesAdded, 0, 0, [],
                earlier.Status == EngineStatus.Completed, earlier.KeepUntil), RecoveryPointConsistency.CrashConsistent, [], database?.Display);
        }

        if (database is not null)
        {
            result = await database.BackupAsync(engine, run, tags, keepUntil, ct);
            consistency = RecoveryPointConsistency.ApplicationConsistent; // pg_dump reads one consistent snapshot of the database
        }
        else
        {
            (result, consistency) = await BackUpFilesAsync(item, engine, run, tags, keepUntil, scriptWarnings, ct);
        }

        var recorded = new RecoveryPointRecorder.Made(result.SnapshotId, result.Files, result.Bytes, result.BytesAdded, result.FilesRead, result.FilesUnchanged,
            result.Warnings, result.Status == EngineStatus.Completed, keepUntil);
        return await recorder.RecordAsync(item, input, run, recorded, consistency, scriptWarnings, database?.Display);
    }

    private static async Task<SnapshotInfo?> EarlierAttemptAsync(Engine.BackupEngine engine, JobRun run, CancellationToken ct) =>
        (await engine.FindSnapshotsByTagAsync(JobTag(run.JobId), cancellationToken: ct)).FirstOrDefault();

    /// <summary>
    /// A files-and-folders backup between the item's scripts: the pre-backup script's success makes the point
    /// application-consistent; its failure (or timeout) leaves it file-system consistent with a warning naming the exit
    /// code, and the backup goes on. The post-backup script always runs, even when the backup failed or was cancelled.
    /// </summary>
    private async Task<(BackupResult, RecoveryPointConsistency)> BackUpFilesAsync(BackupItem item, Engine.BackupEngine engine, JobRun run,
        string[] tags, DateTimeOffset? keepUntil, List<string> scriptWarnings, CancellationToken ct)
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

            var request = new BackupRequest(item.SourcePath)
            {
                Filter = PathFilter.Create(item.Include, item.Exclude), Tags = [.. tags, ItemTags.Consistency + consistency], KeepUntil = keepUntil,
            };
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

}
