using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>Lists snapshots, oldest first: all, or those carrying a tag; keep-until is the later of the snapshot's own and its hold; a hold with no end is said.</summary>
internal sealed class ListSnapshotsOperation(Repo repo)
{
    public async Task<IReadOnlyList<SnapshotInfo>> RunAsync(IProgress<OperationProgress> progress, CancellationToken ct, string? tag = null)
    {
        var held = await new HoldOperation(repo).LoadAsync(ct).ConfigureAwait(false);
        var holds = held.Holds;
        var list = (await SnapshotCatalog.LoadAllAsync(repo, ct).ConfigureAwait(false)).Select(ToInfo)
            .Where(s => tag is null || s.Tags.Contains(tag, StringComparer.Ordinal))
            .Select(s => holds.ContainsKey(s.Id) ? s with { KeepUntil = HoldOperation.Later(s.KeepUntil, holds, s.Id) } : s)
            .Select(s => held.UntilReleased.Contains(s.Id) ? s with { HeldUntilReleased = true } : s).ToList();
        progress.Report(OperationProgress.Final(OperationPhase.Snapshots, list.Count, 0));
        return list;
    }

    public static SnapshotInfo ToInfo(StoredSnapshot s) => new(
        s.Id, s.Snapshot.Time, s.Snapshot.Host, s.Snapshot.Paths, s.Snapshot.Tags,
        Enum.TryParse<OperationStatus>(s.Snapshot.Status, out var st) ? st : OperationStatus.Completed,
        s.Snapshot.Summary.Files, s.Snapshot.Summary.Bytes, s.Snapshot.Summary.BytesAdded, s.Snapshot.Parent, s.Snapshot.KeepUntil);
}
