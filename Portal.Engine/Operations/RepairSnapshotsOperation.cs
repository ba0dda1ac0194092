using System.Text.Json;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// Rewrites snapshots that refer to data which is truly gone (restic's <c>repair snapshots</c>), so that the rest of
/// each stays restorable and check, restore and prune stop stumbling on it. A chunk counts as gone when no index lists
/// it in a pack that exists and can give it back (every known copy is tried; with <c>readData</c> each chunk of each
/// file is read and verified, else the pack's presence is enough). A file with a chunk gone, and a folder whose
/// listing cannot be read, are left out of the new snapshot; the new snapshot keeps the old one's time, host, paths
/// and tags, gains the tag <see cref="RepairedTag"/>, and only then is the old snapshot removed. Snapshots with nothing
/// gone are not touched. Run <c>repair index</c> first when the index itself is in doubt.
/// </summary>
internal sealed class RepairSnapshotsOperation(Repo repo)
{
    public const string RepairedTag = "repaired";

    private readonly Dictionary<BlobId, bool> _available = [];
    private readonly Dictionary<BlobId, BlobId?> _rewritten = []; // old tree → new tree (null: the folder is gone)
    private HashSet<string> _packs = [];
    private MasterIndex _index = null!;
    private PackWriter _writer = null!;
    private bool _readData;

    public async Task<RepairSnapshotsResult> RunAsync(bool readData, CancellationToken ct)
    {
        _readData = readData;
        await using var repoLock = await RepoLock.AcquireAsync(repo, exclusive: true, "repair snapshots", ct).ConfigureAwait(false);
        _index = await MasterIndex.LoadAsync(repo, ct).ConfigureAwait(false);
        _packs = [];
        await foreach (var o in repo.Store.ListAsync(Repo.DataPrefix, ct).ConfigureAwait(false)) _packs.Add(o.Name);
        var snapshots = await SnapshotCatalog.LoadAllAsync(repo, ct).ConfigureAwait(false);
        var repaired = new List<RepairedSnapshot>();
        var unrepairable = new List<string>();
        await using (_writer = new PackWriter(repo, _index) { AfterPack = repoLock.RefreshIfDueAsync })
        {
            var pending = new List<(StoredSnapshot Old, Snapshot New, List<string> Removed)>();
            foreach (var s in snapshots)
            {
                var removed = new List<string>();
                var root = BlobId.Parse(s.Snapshot.Tree);
                var newRoot = await RewriteAsync(root, "", removed, ct).ConfigureAwait(false);
                if (newRoot is null)
                {
                    unrepairable.Add($"snapshot {s.Id[..8]}: its top folder listing cannot be read, so nothing of it can be restored; remove it with forget.");
                    continue;
                }
                if (newRoot == root) continue;
                var old = s.Snapshot;
                pending.Add((s, new Snapshot
                {
                    Version = old.Version, Time = old.Time, Host = old.Host, User = old.User, Paths = old.Paths, Tree = newRoot.Value.ToString(),
                    Parent = old.Parent, Tags = [.. old.Tags.Where(t => t != RepairedTag), RepairedTag], Status = old.Status, Summary = old.Summary,
                    KeepUntil = old.KeepUntil, // an immutable vault's floor stays with the point's new manifest
                }, removed));
            }
            // New trees first (in packs, then an index), then the new snapshots, and only then the old ones go.
            await _writer.FlushAsync(ct).ConfigureAwait(false);
            var written = _writer.TakeWritten();
            if (written.Count > 0) await repo.SaveIndexAsync(written, ct).ConfigureAwait(false);
            foreach (var (old, snapshot, removed) in pending)
            {
                var name = await repo.SaveJsonAsync(Repo.SnapshotsPrefix, snapshot, RepoJson.Default.Snapshot, ct).ConfigureAwait(false);
                await repo.Store.DeleteAsync(old.ObjectName, CancellationToken.None).ConfigureAwait(false);
                repaired.Add(new RepairedSnapshot(old.Id, name[Repo.SnapshotsPrefix.Length..], removed));
            }
        }
        return new RepairSnapshotsResult { Repaired = repaired, Unrepairable = unrepairable, SnapshotsChecked = snapshots.Count };
    }

    /// <summary>The tree with every file whose data is gone left out (the same id when nothing is), or null when it cannot be read.</summary>
    private async Task<BlobId?> RewriteAsync(BlobId treeId, string prefix, List<string> removed, CancellationToken ct)
    {
        if (_rewritten.TryGetValue(treeId, out var done))
        {
            if (done != treeId) await ListRemovedAgainAsync(treeId, prefix, removed, ct).ConfigureAwait(false);
            return done;
        }
        Tree tree;
        try { tree = await _index.LoadTreeAsync(repo, treeId, ct).ConfigureAwait(false); }
        catch (RepositoryException)
        {
            _rewritten[treeId] = null;
            return null;
        }
        var changed = false;
        var kept = new List<Node>(tree.Nodes.Count);
        foreach (var node in tree.Nodes)
        {
            var path = prefix.Length == 0 ? node.Name : prefix + "/" + node.Name;
            if (node.Type == Node.Dir && node.Subtree is not null && BlobId.TryParse(node.Subtree, out var sub))
            {
                var newSub = await RewriteAsync(sub, path, removed, ct).ConfigureAwait(false);
                if (newSub is null)
                {
                    removed.Add(path + "/ (its folder listing is gone)");
                    changed = true;
                    continue;
                }
                if (newSub != sub)
                {
                    node.Subtree = newSub.Value.ToString();
                    changed = true;
                }
            }
            else if (node.Content is { Count: > 0 } content && !await AllAvailableAsync(content, ct).ConfigureAwait(false))
            {
                removed.Add(path);
                changed = true;
                continue;
            }
            kept.Add(node);
        }
        BlobId result = treeId;
        if (changed)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(new Tree { Nodes = kept }, RepoJson.Default.Tree);
            result = repo.Key.Id(json);
            if (_index.TryReserve(result))
                await _writer.AddAsync(result, Repo.TreeBlob, BlobCodec.Encode(repo.Key, json, Repo.BlobAad(Repo.TreeBlob, result)), ct).ConfigureAwait(false);
        }
        _rewritten[treeId] = result;
        return result;
    }

    /// <summary>A subtree shared by two snapshots is rewritten once, but each snapshot's report names what it lost.</summary>
    private async Task ListRemovedAgainAsync(BlobId treeId, string prefix, List<string> removed, CancellationToken ct)
    {
        Tree tree;
        try { tree = await _index.LoadTreeAsync(repo, treeId, ct).ConfigureAwait(false); }
        catch (RepositoryException) { return; }
        foreach (var node in tree.Nodes)
        {
            var path = prefix.Length == 0 ? node.Name : prefix + "/" + node.Name;
            if (node.Type == Node.Dir && node.Subtree is not null && BlobId.TryParse(node.Subtree, out var sub))
            {
                if (!_rewritten.TryGetValue(sub, out var s)) continue;
                if (s is null) removed.Add(path + "/ (its folder listing is gone)");
                else if (s != sub) await ListRemovedAgainAsync(sub, path, removed, ct).ConfigureAwait(false);
            }
            else if (node.Content is { Count: > 0 } content && !await AllAvailableAsync(content, ct).ConfigureAwait(false))
                removed.Add(path);
        }
    }

    private async Task<bool> AllAvailableAsync(List<string> content, CancellationToken ct)
    {
        foreach (var hex in content)
            if (!BlobId.TryParse(hex, out var id) || !await AvailableAsync(id, ct).ConfigureAwait(false)) return false;
        return true;
    }

    private async Task<bool> AvailableAsync(BlobId id, CancellationToken ct)
    {
        if (_available.TryGetValue(id, out var known)) return known;
        var ok = _index.Locations(id).Any(l => _packs.Contains(Repo.PackName(l.Pack)));
        if (ok && _readData)
        {
            try { (await _index.ReadBlobPooledAsync(repo, id, ct).ConfigureAwait(false)).Dispose(); }
            catch (RepositoryException) { ok = false; }
        }
        return _available[id] = ok;
    }
}
