using Microsoft.Extensions.Options;
using Portal.Engine.Replication;
using Portal.Engine.Storage;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Jobs;
using Portal.Features.Regions;

namespace Portal.Features.Replication;

/// <summary>A replication pass of one vault: copy its repository to the paired region, or remove that copy (the vault is LRS now).</summary>
public sealed record ReplicationInput(Guid VaultId, string Region, string Pair, bool RemoveCopy);

/// <summary>
/// One vault's replication pass as a job: <see cref="RegionReplicator"/> copies what the pair lacks (or removes the
/// pair's copy), with objects and bytes as progress, and the vault's replication state is recorded either way. A pass
/// diffs the two listings, so a taken-over one simply goes on where the last copy stopped.
/// </summary>
public sealed class ReplicationJob(RegionStores stores, ReplicationThrottle throttle, ReplicationStatus status, IOptions<ReplicationOptions> options, TimeProvider clock)
    : JobHandler<ReplicationInput>
{
    public override string Name => "replication";

    public override JobKind Kind => JobKind.Replication;

    protected override string Noun => "replication pass";

    public override string ConcurrencyKey(ReplicationInput input) => $"replication/{input.VaultId:N}";

    public override async Task<JobOutcome> RunAsync(ReplicationInput input, JobRun run, CancellationToken ct)
    {
        // Copies are paced by the vault's replication limits as they are now (set on the vault page, else appsettings').
        var (secondary, limits) = input.RemoveCopy ? (stores.Vault(input.VaultId, input.Pair), ReplicationLimits.None)
            : await throttle.SecondaryAsync(input.VaultId, input.Pair, ct);
        var replicator = new RegionReplicator(stores.Vault(input.VaultId, input.Region), secondary, clock);
        var progress = new Progress(run.ProgressAs(input.RemoveCopy ? "Removing" : "Copying"), input.RemoveCopy);
        if (input.RemoveCopy)
        {
            var removed = await replicator.RemoveSecondaryCopyAsync(progress, ct);
            return JobOutcome.Completed($"The vault is LRS now: removed its copy in {input.Pair} ({removed} objects). The primary region's copies are untouched.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        try
        {
            var before = await replicator.MeasureLagAsync(ct);
            await replicator.ReplicateAsync(progress, ct);
            var lag = await replicator.MeasureLagAsync(ct);
            status.Set(input.VaultId, new VaultReplicationState(now, lag, null, now, before.Bytes));
            return JobOutcome.Completed($"Copied {before.Objects:N0} object(s) ({Common.Format.Bytes(before.Bytes)}) to {input.Pair}." +
                                        (limits.Limited ? $" Limits: {limits.Describe()}" : ""));
        }
        catch (StoreException e)
        {
            var previous = status.For(input.VaultId);
            status.Set(input.VaultId, new VaultReplicationState(now, previous?.Lag, e.Message, previous?.LastSuccessAt, 0));
            throw;
        }
    }

    protected override string Cancelled(ReplicationInput input) =>
        "Cancelled. What was copied stays; the next pass goes on where this one stopped.";

    protected override string? Explain(Exception e, ReplicationInput input) => e is StoreException
        ? input.RemoveCopy
            ? $"Removing the copy in {input.Pair} failed: {e.Message} The next pass (every {options.Value.Interval}) goes on where this one stopped."
            : $"Copying to {input.Pair} failed: {e.Message} Backups are not affected; the next pass (every {options.Value.Interval}) continues where this one stopped."
        : null;

    /// <summary>Objects (and, while copying, bytes) done of the total, under the pipeline's throttle.</summary>
    private sealed class Progress(IProgress<Engine.Progress.OperationProgress> job, bool removing) : IProgress<ReplicationProgress>
    {
        public void Report(ReplicationProgress p) =>
            job.Report(new Engine.Progress.OperationProgress(Engine.Progress.OperationPhase.Read, p.ObjectsDone, p.ObjectsTotal,
                removing ? 0 : p.BytesDone, removing ? 0 : p.BytesTotal) { IsFinal = p.ObjectsDone == p.ObjectsTotal });
    }
}
