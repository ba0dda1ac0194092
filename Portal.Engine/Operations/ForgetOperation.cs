using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// Removes snapshot manifests by id or prefix. Their data stays until a prune, which keeps whatever a remaining snapshot
/// needs. A snapshot kept until a later time (<see cref="Snapshot.KeepUntil"/>: an immutable vault's recovery point) is
/// refused whatever the caller says, and then nothing is removed; so is one held (<see cref="HoldOperation"/>), until its
/// time or, held with no end, until the hold is released.
/// </summary>
internal sealed class ForgetOperation(Repo repo)
{
    public async Task<IReadOnlyList<string>> RunAsync(IEnumerable<string> references, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        var all = await SnapshotCatalog.LoadAllAsync(repo, ct).ConfigureAwait(false);
        var doomed = SnapshotCatalog.ResolveAll(all, references).DistinctBy(s => s.Id).ToList(); // all resolve before any delete
        var now = repo.Time.GetUtcNow();
        var held = await new HoldOperation(repo).LoadAsync(ct).ConfigureAwait(false); // snapshots written before the vault was immutable
        var kept = doomed.Select(s => (s.Id, Until: HoldOperation.Later(s.Snapshot.KeepUntil, held.Holds, s.Id))).Where(s => s.Until > now).ToList();
        var open = doomed.Where(s => held.UntilReleased.Contains(s.Id)).ToList();
        if (kept.Count > 0 || open.Count > 0)
            throw new SnapshotRetainedException(
                $"Nothing was removed: {string.Join("; ", kept.Select(s => $"snapshot {s.Id[..8]} must be kept until {s.Until!.Value.UtcDateTime:yyyy-MM-dd HH:mm} UTC")
                    .Concat(open.Select(s => $"snapshot {s.Id[..8]} is held with no end date (its retention has none: kept until deleted)")))} " +
                "(it belongs to an immutable vault, which keeps every recovery point until its retention ends). Forget only snapshots whose retention has ended" +
                (open.Count > 0 ? "; a hold with no end goes only when the vault's owner turns an unlocked immutability off." : "."));
        var done = 0;
        await Parallel.ForEachAsync(doomed, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (s, token) =>
        {
            await repo.Store.DeleteAsync(s.ObjectName, token).ConfigureAwait(false);
            var n = Interlocked.Increment(ref done);
            if (n < doomed.Count) progress.Report(new OperationProgress(OperationPhase.Forget, n, doomed.Count, 0, 0, s.Id));
        }).ConfigureAwait(false);
        progress.Report(OperationProgress.Final(OperationPhase.Forget, doomed.Count, 0) with { CurrentPath = doomed.Count > 0 ? doomed[^1].Id : null });
        return doomed.Select(s => s.Id).ToList();
    }
}
