using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Engine.Operations;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Quartz;
using EngineStatus = Portal.Engine.Progress.OperationStatus;
using JobStatus = Portal.Features.Jobs.JobStatus;

namespace Portal.Features.Restore;

/// <summary>
/// Runs a queued restore: reads the point from its region, writes into the target with the chosen conflict option
/// (copies named as Azure Backup names them), reports progress, and finishes with counts restored, skipped and
/// failed, each failure in the job's log with its path. A cancelled restore leaves what it restored and says so.
/// The engine refuses any path that would lead outside the target.
/// </summary>
public sealed class RestoreRunner(IDbContextFactory<PortalDbContext> dbFactory, VaultKeys keys, JobService jobs, JobCancellation cancellation,
    TimeProvider clock, ILogger<RestoreRunner> logger)
{
    internal async Task RunAsync(Guid jobId, RestoreService.QueuedRestore queued, CancellationToken stopping)
    {
        if (!await jobs.BeginAsync(jobId, stopping))
            return;
        using var registration = cancellation.Register(jobId, stopping);
        var tracker = new JobProgressTracker(jobId, jobs, clock, registration, logger);
        var request = queued.Request;
        try
        {
            RecoveryPoint point;
            Vaults.Vault vault;
            await using (var db = await dbFactory.CreateDbContextAsync(registration.Token))
            {
                point = await db.RecoveryPoints.AsNoTracking().FirstOrDefaultAsync(p => p.Id == request.RecoveryPointId, registration.Token)
                        ?? throw new PortalConflictException("The recovery point was removed by the retention run before the restore started. Choose another point.");
                vault = await db.Vaults.AsNoTracking().FirstAsync(v => v.Id == point.VaultId, registration.Token);
            }

            using var heartbeat = tracker.StartHeartbeat(BackupRunner.HeartbeatInterval);
            using var engine = await keys.OpenAsync(vault.Id, vault.Name, request.Region ?? vault.Region, registration.Token);
            var result = await engine.RestoreAsync(new Portal.Engine.Operations.RestoreRequest(point.SnapshotId, queued.TargetPath)
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
            }, tracker.Throttled(BackupRunner.ReportInterval), registration.Token);
            await tracker.FlushAsync();

            var counts = $"Restored {result.FilesRestored:N0} file(s) ({RestoreService.Format(result.BytesRestored)}) to {queued.TargetPath}; " +
                         $"skipped {result.Skipped:N0} already there; {result.Errors.Count:N0} failed.";
            await jobs.LogAsync(jobId, JobLogLevel.Info, counts, CancellationToken.None);
            if (result.Warnings.Count > 0)
                await jobs.LogAsync(jobId, JobLogLevel.Warning, result.Warnings, CancellationToken.None);
            if (result.Errors.Count > 0)
                await jobs.LogAsync(jobId, JobLogLevel.Error, result.Errors, CancellationToken.None);
            var status = result.Status == EngineStatus.Completed ? JobStatus.Completed
                : result.FilesRestored > 0 ? JobStatus.CompletedWithWarnings : JobStatus.Failed;
            await jobs.FinishAsync(jobId, status, result.Errors.Count == 0 ? counts
                : counts + " The log lists each failed file with the reason; fix it (space, permissions, a folder in the way) and restore those files again.",
                CancellationToken.None);
        }
        catch (OperationCanceledException) when (registration.Token.IsCancellationRequested)
        {
            await tracker.FlushAsync();
            await jobs.FinishAsync(jobId, stopping.IsCancellationRequested ? JobStatus.Failed : JobStatus.Cancelled,
                $"{(stopping.IsCancellationRequested ? "The portal stopped while this restore ran" : "Cancelled")}. The files restored before that stay in {queued.TargetPath}; " +
                "no file is left half-written. Restore again with \"skip\" to finish the rest.", CancellationToken.None);
        }
        catch (Exception e) when (e is PortalConflictException || BackupRunner.Explain(e, null) is not null)
        {
            await tracker.FlushAsync();
            var message = e is PortalConflictException ? e.Message : BackupRunner.Explain(e, null)!;
            await jobs.LogAsync(jobId, JobLogLevel.Error, message, CancellationToken.None);
            await jobs.FinishAsync(jobId, JobStatus.Failed, message, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Restore job {Job} failed unexpectedly", jobId);
            await tracker.FlushAsync();
            await jobs.FinishAsync(jobId, JobStatus.Failed,
                $"The restore stopped on an unexpected error ({e.GetType().Name}: {e.Message}). Files restored before it stay; the portal's log has the details.",
                CancellationToken.None);
        }
    }
}

/// <summary>The Quartz job of a queued restore; restores of one item run one at a time.</summary>
[DisallowConcurrentExecution]
internal sealed class RestoreItemJob(RestoreRunner runner) : IJob
{
    public const string Group = "restore";
    public const string RequestKey = "request";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var data = context.MergedJobDataMap;
        if (data.TryGetString(Scheduling.ProtectionScheduler.JobIdKey, out var jobText) && Guid.TryParse(jobText, out var jobId)
            && data.TryGetString(RequestKey, out var json) && json is not null
            && JsonSerializer.Deserialize<RestoreService.QueuedRestore>(json) is { } queued)
            await runner.RunAsync(jobId, queued, cancellationToken);
    }
}
