using Portal.Engine.Crypto;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// Reading a snapshot piece by piece, for browsing and downloads: one folder's entries (not its subtree), and one
/// file's content streamed to a caller's stream, decrypted and verified chunk by chunk, never staged on disk.
/// </summary>
internal sealed class BrowseOperation(Repo repo)
{
    public async Task<IReadOnlyList<TreeEntry>> ListDirectoryAsync(string snapshot, string? path, CancellationToken ct)
    {
        var (index, node, prefix) = await FindAsync(snapshot, path, ct).ConfigureAwait(false);
        if (node is { Type: not Node.Dir })
            throw new RepositoryException($"'{path}' is a file, not a folder.");
        var treeId = node is null ? BlobId.Parse((await SnapshotCatalog.ResolveAsync(repo, snapshot, ct).ConfigureAwait(false)).Snapshot.Tree) : BlobId.Parse(node.Subtree!);
        var tree = await index.LoadTreeAsync(repo, treeId, ct).ConfigureAwait(false);
        return [.. tree.Nodes.Select(n => ListTreeOperation.ToEntry(prefix.Length == 0 ? n.Name : prefix + "/" + n.Name, n))];
    }

    /// <summary>
    /// Streams one file. Under a reader lock (best effort, as a restore's: without one, or past a prune's lock, it goes
    /// on), so that a prune starting during a long download or database restore backs off.
    /// </summary>
    public async Task<TreeEntry> WriteFileAsync(string snapshot, string path, Stream destination, CancellationToken ct)
    {
        var (repoLock, _) = await RepoLock.AcquireReaderAsync(repo, "download", ct).ConfigureAwait(false);
        await using (repoLock)
            return await WriteFileLockedAsync(snapshot, path, destination, repoLock, ct).ConfigureAwait(false);
    }

    private async Task<TreeEntry> WriteFileLockedAsync(string snapshot, string path, Stream destination, RepoLock? repoLock, CancellationToken ct)
    {
        var (index, node, prefix) = await FindAsync(snapshot, path, ct).ConfigureAwait(false);
        if (node is not { Type: Node.File })
            throw new RepositoryException($"'{path}' is not a file in this snapshot.");
        const int Ahead = 4;
        var ids = (node.Content ?? []).Select(c => BlobId.TryParse(c, out var id) ? id : throw new RepositoryException($"bad chunk id '{c}'.")).ToArray();
        var window = new Queue<Task<Compression.PooledBuffer>>();
        var next = 0;
        try
        {
            while (next < ids.Length && window.Count < Ahead) window.Enqueue(index.ReadBlobPooledAsync(repo, ids[next++], ct));
            while (window.Count > 0)
            {
                using var data = await window.Dequeue().ConfigureAwait(false); // decrypted and verified
                if (next < ids.Length) window.Enqueue(index.ReadBlobPooledAsync(repo, ids[next++], ct));
                await destination.WriteAsync(data.Memory, ct).ConfigureAwait(false);
                if (repoLock is not null) await repoLock.TryRefreshIfDueAsync(ct).ConfigureAwait(false);
            }
        }
        finally
        {
            while (window.Count > 0)
            {
                try { (await window.Dequeue().ConfigureAwait(false)).Dispose(); }
                catch (Exception e) when (e is RepositoryException or OperationCanceledException or IOException or Storage.StoreException) { }
            }
        }

        return ListTreeOperation.ToEntry(prefix, node);
    }

    /// <summary>The node at <paramref name="path"/> (null for the snapshot's root), with the index and its full path.</summary>
    private async Task<(MasterIndex Index, Node? Node, string Path)> FindAsync(string snapshot, string? path, CancellationToken ct)
    {
        var snap = await SnapshotCatalog.ResolveAsync(repo, snapshot, ct).ConfigureAwait(false);
        var index = await MasterIndex.LoadAsync(repo, ct).ConfigureAwait(false);
        var treeId = BlobId.Parse(snap.Snapshot.Tree);
        Node? node = null;
        var prefix = "";
        foreach (var part in RestorePaths.SplitInclude(path ?? ""))
        {
            if (node is not null && (node.Type != Node.Dir || node.Subtree is null))
                throw new RepositoryException($"'{path}' is not in snapshot {snap.Id[..8]}.");
            var tree = await index.LoadTreeAsync(repo, treeId, ct).ConfigureAwait(false);
            node = tree.Nodes.FirstOrDefault(n => n.Name == part) ?? throw new RepositoryException($"'{path}' is not in snapshot {snap.Id[..8]}.");
            prefix = prefix.Length == 0 ? part : prefix + "/" + part;
            if (node.Type == Node.Dir && node.Subtree is not null)
                treeId = BlobId.Parse(node.Subtree);
        }

        return (index, node, prefix);
    }
}
