using Portal.Engine.Crypto;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// What a whole restore of a snapshot would read from storage and write, from its folder listings and the index alone
/// (no file data is read): the reads a <see cref="RestoreOperation"/> of the whole snapshot reports, counted the same way.
/// </summary>
internal sealed class RestoreSizeOperation(Repo repo)
{
    public async Task<RestoreSize> RunAsync(string snapshot, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        var snap = await SnapshotCatalog.ResolveAsync(repo, snapshot, ct).ConfigureAwait(false);
        var index = await MasterIndex.LoadAsync(repo, ct).ConfigureAwait(false);
        long files = 0, bytes = 0, reads = 0, stored = 0, folders = 0;
        var linked = new HashSet<(ulong, ulong)>();
        var pending = new Stack<BlobId>();
        pending.Push(BlobId.Parse(snap.Snapshot.Tree));
        while (pending.TryPop(out var treeId))
        {
            ct.ThrowIfCancellationRequested();
            Count(index, treeId, ref reads, ref stored);
            var tree = await index.LoadTreeAsync(repo, treeId, ct).ConfigureAwait(false);
            folders++;
            foreach (var node in tree.Nodes)
            {
                if (RestorePaths.Unsafe(node.Name) is not null) continue; // a restore refuses it too
                if (node.Type == Node.Dir && node.Subtree is not null && BlobId.TryParse(node.Subtree, out var sub))
                    pending.Push(sub);
                else if (node.Type == Node.File)
                {
                    files++;
                    bytes += node.Size;
                    if (node.Links > 1 && !linked.Add((node.Device, node.Inode))) continue; // a hard link reads nothing
                    foreach (var chunk in node.Content ?? [])
                        if (BlobId.TryParse(chunk, out var id)) Count(index, id, ref reads, ref stored);
                }
            }
            progress.Report(new OperationProgress(OperationPhase.List, folders, 0, 0, 0));
        }
        progress.Report(OperationProgress.Final(OperationPhase.List, folders, 0));
        return new RestoreSize(snap.Id, files, bytes, reads, stored);
    }

    private static void Count(MasterIndex index, BlobId id, ref long reads, ref long stored)
    {
        if (!index.TryGet(id, out var location, out _)) return;
        reads++;
        stored += location.Length;
    }
}
