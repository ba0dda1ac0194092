using Portal.Engine.Crypto;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>Lists a snapshot's items (all of them, or those under one path), depth first in name order.</summary>
internal sealed class ListTreeOperation(Repo repo)
{
    public async Task<IReadOnlyList<TreeEntry>> RunAsync(string snapshot, string? path, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        var result = new List<TreeEntry>();
        await foreach (var entry in StreamAsync(snapshot, path, progress, ct).ConfigureAwait(false))
            result.Add(entry);
        return result;
    }

    /// <summary>
    /// The same entries as they are read, one folder listing at a time: a caller prints the first ones while the rest of
    /// a huge tree is still being read, and memory holds one folder per level of depth, not the whole listing.
    /// </summary>
    public async IAsyncEnumerable<TreeEntry> StreamAsync(string snapshot, string? path, IProgress<OperationProgress> progress,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var snap = await SnapshotCatalog.ResolveAsync(repo, snapshot, ct).ConfigureAwait(false);
        var index = await MasterIndex.LoadAsync(repo, ct).ConfigureAwait(false);
        var count = 0L;
        var treeId = BlobId.Parse(snap.Snapshot.Tree);
        var prefix = "";
        foreach (var part in RestorePaths.SplitInclude(path ?? ""))
        {
            var tree = await index.LoadTreeAsync(repo, treeId, ct).ConfigureAwait(false);
            var node = tree.Nodes.FirstOrDefault(n => n.Name == part)
                ?? throw new RepositoryException($"'{path}' is not in snapshot {snap.Id[..8]}.");
            prefix = prefix.Length == 0 ? part : prefix + "/" + part;
            count++;
            yield return ToEntry(prefix, node);
            if (node.Type != Node.Dir || node.Subtree is null)
            {
                progress.Report(OperationProgress.Final(OperationPhase.List, count, 0));
                yield break;
            }
            treeId = BlobId.Parse(node.Subtree);
        }

        // Depth first in name order, without recursion: a stack of the folders still to finish.
        var stack = new Stack<(IEnumerator<Node> Nodes, string Prefix)>();
        stack.Push((((IEnumerable<Node>)(await index.LoadTreeAsync(repo, treeId, ct).ConfigureAwait(false)).Nodes).GetEnumerator(), prefix));
        while (stack.Count > 0)
        {
            var (nodes, folder) = stack.Peek();
            if (!nodes.MoveNext())
            {
                stack.Pop();
                progress.Report(new OperationProgress(OperationPhase.List, count, 0, 0, 0, folder));
                continue;
            }

            var node = nodes.Current;
            var entryPath = folder.Length == 0 ? node.Name : folder + "/" + node.Name;
            count++;
            yield return ToEntry(entryPath, node);
            if (node.Type == Node.Dir && node.Subtree is not null)
                stack.Push((((IEnumerable<Node>)(await index.LoadTreeAsync(repo, BlobId.Parse(node.Subtree), ct).ConfigureAwait(false)).Nodes).GetEnumerator(), entryPath));
        }

        progress.Report(OperationProgress.Final(OperationPhase.List, count, 0));
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
