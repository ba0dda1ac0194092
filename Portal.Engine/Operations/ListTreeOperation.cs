using Portal.Engine.Crypto;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>Lists a snapshot's items (all of them, or those under one path), depth first in name order.</summary>
internal sealed class ListTreeOperation(Repo repo)
{
    public async Task<IReadOnlyList<TreeEntry>> RunAsync(string snapshot, string? path, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        var snap = await SnapshotCatalog.ResolveAsync(repo, snapshot, ct).ConfigureAwait(false);
        var index = await MasterIndex.LoadAsync(repo, ct).ConfigureAwait(false);
        var result = new List<TreeEntry>();
        var treeId = BlobId.Parse(snap.Snapshot.Tree);
        var prefix = "";
        foreach (var part in RestorePaths.SplitInclude(path ?? ""))
        {
            var tree = await index.LoadTreeAsync(repo, treeId, ct).ConfigureAwait(false);
            var node = tree.Nodes.FirstOrDefault(n => n.Name == part)
                ?? throw new RepositoryException($"'{path}' is not in snapshot {snap.Id[..8]}.");
            prefix = prefix.Length == 0 ? part : prefix + "/" + part;
            if (node.Type != Node.Dir || node.Subtree is null)
            {
                result.Add(ToEntry(prefix, node));
                progress.Report(OperationProgress.Final(OperationPhase.List, result.Count, 0));
                return result;
            }
            result.Add(ToEntry(prefix, node));
            treeId = BlobId.Parse(node.Subtree);
        }
        await WalkAsync(index, treeId, prefix, result, progress, ct).ConfigureAwait(false);
        progress.Report(OperationProgress.Final(OperationPhase.List, result.Count, 0));
        return result;
    }

    private async Task WalkAsync(MasterIndex index, BlobId id, string prefix, List<TreeEntry> result, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        var tree = await index.LoadTreeAsync(repo, id, ct).ConfigureAwait(false);
        foreach (var node in tree.Nodes)
        {
            var path = prefix.Length == 0 ? node.Name : prefix + "/" + node.Name;
            result.Add(ToEntry(path, node));
            if (node.Type == Node.Dir && node.Subtree is not null)
                await WalkAsync(index, BlobId.Parse(node.Subtree), path, result, progress, ct).ConfigureAwait(false);
        }
        progress.Report(new OperationProgress(OperationPhase.List, result.Count, 0, 0, 0, prefix));
    }

    public static EntryType TypeOf(Node n) => n.Type switch
    {
        Node.Dir => EntryType.Directory,
        Node.Symlink => EntryType.Symlink,
        _ => EntryType.File,
    };

    public static TreeEntry ToEntry(string path, Node n) =>
        new(path, TypeOf(n), n.Size, (int)n.Mode, DateTimeOffset.UnixEpoch.AddTicks(n.MtimeNs / 100), n.LinkTarget);
}
