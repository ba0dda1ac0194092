using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine.Agents;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;
using JobStatus = Portal.Features.Jobs.JobStatus;

namespace Portal.Features.Restore;

/// <summary>
/// A restore of a machine's files onto a machine of its vault, run by that machine's agent: back to the item's own folder,
/// to another folder, or onto another registered machine (Azure's alternate-machine restore). For another machine the
/// agent receives, only when it claims the job, the source repository's key sealed to its own key, and the store lets
/// it read the source's backups only while this job runs: nothing of the grant is stored.
/// </summary>
public sealed class MachineRestoreJob(IDbContextFactory<PortalDbContext> dbFactory, IMachines machines)
    : RemoteJobHandler<FileRestoreInput, MachineRestoreInput, MachineRestoreResult>
{
    public override string Name => AgentOperations.Restore;

    public override JobKind Kind => JobKind.Restore;

    protected override string Noun => "restore";

    public override string ConcurrencyKey(FileRestoreInput input) => $"restore/{input.Request.ItemId:N}";

    protected override async Task<MachineRestoreInput> ForExecutorAsync(FileRestoreInput input, JobLease lease, CancellationToken ct)
    {
        var request = input.Request;
        RecoveryPoint? point;
        BackupItem? item;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            point = await db.RecoveryPoints.AsNoTracking().FirstOrDefaultAsync(p => p.Id == request.RecoveryPointId, ct);
            item = await db.BackupItems.AsNoTracking().FirstOrDefaultAsync(i => i.Id == request.ItemId, ct);
        }

        if (point is null)
            throw new PortalConflictException("The recovery point was removed by the retention run before the restore started. Choose another point.");
        if (item?.MachineId is not { } source)
            throw new PortalConflictException("The item of this restore is no longer on a machine.");
        var target = JobExecutors.MachineOf(lease.Executor) ?? throw new InvalidOperationException("A machine restore is claimed by a machine.");
        var granted = target == source ? null : await machines.GrantAsync(source, target, lease.JobId, ct);
        return new MachineRestoreInput(source, point.SnapshotId, [.. request.Paths.Where(p => !string.IsNullOrWhiteSpace(p))], input.TargetPath,
            request.Conflict.ToString(), granted, Resume: input.RetryOf is not null);
    }

    protected override async Task<JobOutcome> CompleteAsync(FileRestoreInput input, RemoteOutcome outcome, MachineRestoreResult? result, JobRun run, CancellationToken ct)
    {
        if (result is null)
            return new JobOutcome(outcome.Status is JobStatus.Cancelled ? JobStatus.Cancelled : JobStatus.Failed,
                outcome.Message ?? (outcome.Status is JobStatus.Cancelled ? Cancelled(input) : "The machine reported a failure without words."));
        var counts = RestoreReport.Counts(result.Files, result.Bytes, result.Destination, result.Copies.Count, 0, result.Skipped, result.Errors.Count);
        await run.LogAsync(JobLogLevel.Info, counts);
        await run.LogAsync(JobLogLevel.Info, RestoreReport.Lines(result.Destination, input.Request.Paths, result.Copies));
        if (result.Warnings.Count > 0)
            await run.LogAsync(JobLogLevel.Warning, result.Warnings);
        if (result.Errors.Count > 0)
            await run.LogAsync(JobLogLevel.Error, result.Errors);
        if (outcome.Status == JobStatus.Cancelled)
            return new JobOutcome(JobStatus.Cancelled, Cancelled(input) + " " + counts);
        var status = result.Errors.Count == 0 && outcome.Status == JobStatus.Completed ? JobStatus.Completed
            : result.Files > 0 || outcome.Status == JobStatus.CompletedWithWarnings ? JobStatus.CompletedWithWarnings : JobStatus.Failed;
        return new JobOutcome(status, result.Errors.Count == 0 ? (outcome.Status == JobStatus.Failed && outcome.Message is { } why ? why + " " + counts : counts)
            : counts + " The log lists each failed file with the reason; fix it on the machine (space, permissions, a folder in the way) and restore those files again.");
    }

    protected override string Cancelled(FileRestoreInput input) =>
        $"Cancelled. The files restored before that stay in {input.TargetPath}; no file is left half-written. Restore again with \"skip\" to finish the rest.";

    protected override string Interrupted(FileRestoreInput input) =>
        $"The files restored before that stay in {input.TargetPath}, none half-written. Check that the agent runs on the machine, then restore again with \"skip\" to finish the rest.";

    protected override string? Explain(Exception e, FileRestoreInput input) => e switch
    {
        PortalConflictException => e.Message,
        VaultLockedException => e.Message,
        _ => null,
    };
}
