using Microsoft.EntityFrameworkCore;
using Portal.Engine.Operations;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;
using Portal.Data;
using EngineStatus = Portal.Engine.Progress.OperationStatus;
using JobStatus = Portal.Features.Jobs.JobStatus;

namespace Portal.Features.Restore;

/// <summary>
/// A restore of files as queued: the request as checked when it was started, and where it writes. For a machine's item,
/// <paramref name="SourceMachineId"/> is the machine whose repository holds the point: the job is the read grant the
/// store endpoint checks when the restoring machine is another one. <paramref name="RetryOf"/>: the failed restore this one
/// repeats (Retry): files already at the target with the point's size and content are kept, not restored a second time.
/// </summary>
public sealed record FileRestoreInput(FileRestoreRequest Request, string TargetPath, long Bytes, Guid? SourceMachineId = null, Guid? RetryOf = null);

/// <summary>
/// A restore of files as a job: reads the point from its region, writes into the target with the chosen conflict
/// option (copies named as Azure Backup names them), and finishes with counts restored, skipped and failed, each
/// failure in the job's log with its path. The engine refuses any path that would lead outside the target. Resumable:
/// an attempt after a takeover, and a retry of a failed restore, keep the files (and "Copy of" files) an earlier attempt
/// restored, verified by size and content fingerprint, and restore the rest: a retry makes no second copy.
/// </summary>
public sealed class RestoreJob(IDbContextFactory<PortalDbContext> dbFactory, VaultKeys keys) : JobHandler<FileRestoreInput>
{
    public override string Name => "restore-files";

    public override JobKind Kind => JobKind.Restore;

    protected override string Noun => "restore";

    /// <summary>Restores of one item run one at a time.</summary>
    public override string ConcurrencyKey(FileRestoreInput input) => $"restore/{input.Request.ItemId:N}";

    public override async Task<JobOutcome> RunAsync(FileRestoreInput input, JobRun run, CancellationToken ct)
    {
        var request = input.Request;
        RecoveryPoint point;
        Vaults.Vault vault;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            point = await db.RecoveryPoints.AsNoTracking().FirstOrDefaultAsync(p => p.Id == request.RecoveryPointId, ct)
                    ?? throw new PortalConflictException("The recovery point was removed by the retention run before the restore started. Choose another point.");
            vault = await db.Vaults.AsNoTracking().FirstAsync(v => v.Id == point.VaultId, ct);
        }

        using var engine = await keys.OpenAsync(vault.Id, vault.Name, request.Region ?? vault.Region, ct);
        var result = await engine.RestoreAsync(new RestoreRequest(point.SnapshotId, input.TargetPath)
        {
            Include = [.. request.Paths.Where(p => !string.IsNullOrWhiteSpace(p))],
            Conflict = request.Conflict switch
            {
                RestoreConflictOption.Overwrite => RestoreConflict.Overwrite,
                RestoreConflictOption.Skip => RestoreConflict.Skip,
                _ => RestoreConflict.CreateCopy,
            },
            CopyPrefix = $"{point.CreatedAt:yyyy-MM-dd HH-mm} Copy of ",
            Sparse = request.Sparse,
            // An earlier attempt stopped (a takeover), or failed and this is its retry: keep what it restored, verified by
            // size and content, including the copies it made next to files already there.
            Resume = run.Attempt > 1 || input.RetryOf is not null,
            // After a takeover, what changed since the first attempt started (a minute's margin for the clocks of other
            // portal hosts) is a file that attempt was writing: written again, whatever the conflict option. Not for a
            // retry: the failed job wrote no half file (the engine removes it), and files changed since are someone's own.
            ResumeSince = run.Attempt > 1 && run.Job.StartedAt is { } started ? new DateTimeOffset(started, TimeSpan.Zero).AddMinutes(-1) : null,
        }, run.Progress, ct);

        var counts = RestoreReport.Counts(result.FilesRestored, result.BytesRestored, input.TargetPath, result.Copies.Count,
            result.FilesAlreadyComplete, result.Skipped, result.Errors.Count);
        await run.LogAsync(JobLogLevel.Info, counts);
        await run.LogAsync(JobLogLevel.Info, RestoreReport.Lines(input.TargetPath, request.Paths, result.Copies));
        if (result.Warnings.Count > 0)
            await run.LogAsync(JobLogLevel.Warning, result.Warnings);
        if (result.Errors.Count > 0)
            await run.LogAsync(JobLogLevel.Error, result.Errors);
        var status = result.Status == EngineStatus.Completed ? JobStatus.Completed
            : result.FilesRestored > 0 ? JobStatus.CompletedWithWarnings : JobStatus.Failed;
        return new JobOutcome(status, result.Errors.Count == 0 ? counts
            : counts + " The log lists each failed file with the reason; fix it (space, permissions, a folder in the way) and restore those files again.");
    }

    protected override string Cancelled(FileRestoreInput input) =>
        $"Cancelled. The files restored before that stay in {input.TargetPath}; no file is left half-written. Restore again with \"skip\" to finish the rest.";

    protected override string AfterUnexpected => "Files restored before it stay, none half-written; the portal's log has the details.";

    protected override string? Explain(Exception e, FileRestoreInput input) => e switch
    {
        UnauthorizedAccessException => $"The portal may not write to {input.TargetPath}: {e.Message} Give its user write access there, or restore to another folder.",
        IOException => $"Writing to {input.TargetPath} failed: {e.Message} Check the space and the disk there, then restore again with \"skip\" to finish the rest.",
        _ => VaultFailures.Explain(e, $"the files restored so far stay in {input.TargetPath}"),
    };
}
