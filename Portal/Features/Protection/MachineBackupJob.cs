using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine.Agents;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using JobStatus = Portal.Features.Jobs.JobStatus;

namespace Portal.Features.Protection;

/// <summary>
/// A backup of a folder on a registered machine: queued like any backup (same input, same one-at-a-time key), claimed
/// and run by the machine's agent, which chunks, compresses and encrypts on its own CPU into its own repository. When
/// the agent reports its snapshot, the portal opens that repository itself and records the recovery point only if the
/// snapshot is there, tagged with this job: nothing the machine merely claims enters the catalog.
/// </summary>
public sealed class MachineBackupJob(IDbContextFactory<PortalDbContext> dbFactory, IMachines machines, ItemScripts scripts, RecoveryPointRecorder recorder, TimeProvider clock)
    : RemoteJobHandler<BackupInput, MachineBackupInput, MachineBackupResult>
{
    public override string Name => AgentOperations.Backup;

    public override JobKind Kind => JobKind.Backup;

    protected override string Noun => "backup";

    public override string ConcurrencyKey(BackupInput input) => $"backup/{input.ItemId:N}";

    /// <summary>The item as it is when the agent starts (a changed folder or pattern applies from the next backup on).</summary>
    protected override async Task<MachineBackupInput> ForExecutorAsync(BackupInput input, JobLease lease, CancellationToken ct)
    {
        var item = await LoadAsync(input.ItemId, ct) ?? throw new ItemGoneException();
        return new MachineBackupInput(item.Id, item.Name, item.SourcePath, item.Include, item.Exclude, item.PreScript, item.PostScript,
            (int)scripts.TimeoutFor(item.ScriptTimeoutSeconds).TotalSeconds,
            ItemTags.For(item, input, lease.JobId),
            ImmutableRetention.KeepUntil(item.Vault!, item.Policy, input, clock.GetUtcNow()));
    }

    protected override async Task<JobOutcome> CompleteAsync(BackupInput input, RemoteOutcome outcome, MachineBackupResult? result, JobRun run, CancellationToken ct)
    {
        var item = await LoadAsync(input.ItemId, ct);
        if (item is null)
            return JobOutcome.Failed("The backup item no longer exists.");
        var machine = item.MachineId is { } id ? await machines.FindAsync(id, ct) : null;
        var where = machine is null ? "the machine" : $"machine {machine.Name}";
        if (outcome.Status is not (JobStatus.Completed or JobStatus.CompletedWithWarnings) || result is null)
        {
            if (outcome.Status is JobStatus.Completed or JobStatus.CompletedWithWarnings)
                return JobOutcome.Failed($"The agent on {where} ended the backup without saying which recovery point it made; no point was recorded. Update the agent and back up again.");
            return new JobOutcome(outcome.Status == JobStatus.Cancelled ? JobStatus.Cancelled : JobStatus.Failed,
                outcome.Message ?? (outcome.Status == JobStatus.Cancelled ? Cancelled(input) : $"The agent on {where} reported a failure without words."));
        }

        // Verified in storage, not taken on the machine's word: the snapshot must be in the machine's repository, tagged with this job.
        DateTimeOffset? keepUntil;
        using (var engine = await machines.OpenRepositoryAsync(item.MachineId!.Value, ct))
        {
            var tagged = await engine.FindSnapshotsByTagAsync(BackupJob.JobTag(run.JobId), cancellationToken: ct);
            if (tagged.FirstOrDefault(s => s.Id == result.SnapshotId) is not { } snapshot)
                return JobOutcome.Failed(
                    $"The agent on {where} reported recovery point {Short(result.SnapshotId)}, but the vault's storage holds no such snapshot of this job; no point was recorded. " +
                    "Back up again; if this repeats, check the machine (its agent may be altered).");
            keepUntil = snapshot.KeepUntil; // what the snapshot itself carries, as for everything else recorded
        }

        if (result.Reused)
            await run.LogAsync(JobLogLevel.Info, $"An earlier attempt of this job wrote recovery point {Short(result.SnapshotId)}; it is recorded as this job's point.");
        var consistency = result.ApplicationConsistent ? RecoveryPointConsistency.ApplicationConsistent : RecoveryPointConsistency.FileSystemConsistent;
        var scriptWarnings = outcome.Status == JobStatus.CompletedWithWarnings && result.Warnings.Count == 0 && outcome.Message is { } words ? [words] : new List<string>();
        return await recorder.RecordAsync(item, input, run, new RecoveryPointRecorder.Made(result.SnapshotId, result.Files, result.Bytes, result.BytesAdded,
            result.FilesRead, result.FilesUnchanged, result.Warnings, result.Warnings.Count == 0, keepUntil), consistency, scriptWarnings, database: null, where);
    }

    protected override string Cancelled(BackupInput input) =>
        "Cancelled. What this backup uploaded stays in the vault and the next backup reuses it; no recovery point was made.";

    protected override string Interrupted(BackupInput input) =>
        "What it uploaded stays in the vault and the next backup reuses it; no recovery point was made. Check that the agent runs on the machine " +
        "(systemctl status portal-agent) and that it reaches the portal.";

    protected override string? Explain(Exception e, BackupInput input) => e switch
    {
        ItemGoneException => "The backup item no longer exists.",
        VaultLockedException => e.Message,
        _ => VaultFailures.Explain(e, "the next backup reuses what was uploaded"),
    };

    private async Task<BackupItem?> LoadAsync(Guid itemId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.BackupItems.AsNoTracking().Include(i => i.Vault).Include(i => i.Policy).FirstOrDefaultAsync(i => i.Id == itemId, ct);
    }

    private static string Short(string snapshotId) => snapshotId.Length > 8 ? snapshotId[..8] : snapshotId;

    private sealed class ItemGoneException() : Exception("The backup item no longer exists.");
}
