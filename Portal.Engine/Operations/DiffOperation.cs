using Portal.Engine.Crypto;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>What changed from snapshot A to snapshot B. Identical subtrees (same id) are skipped unread.</summary>
internal sealed class DiffOperation(Repo repo)
{
    public async Task<IReadOnlyList<DiffEntry>> RunAsync(string a, string b, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        var all = await SnapshotCatalog.LoadAllAsync(repo, ct).ConfigureAwait(false);
        var sa = SnapshotCatalog.Resolve(all, a);
        var sb = SnapshotCatalog.Resolve(all, b);
        var index = await MasterIndex.LoadAsync(repo, ct).ConfigureAwait(false);
        var result = new List<DiffEntry>();
        await CompareAsync(index, sa.Snapshot.Tree, sb.Snapshot.Tree, "", result, ct).ConfigureAwait(false);
        progress.Report(OperationProgress.Final(OperationPhase.Diff, result.Count, 0));
        return result;
    }

    private async Task CompareAsync(MasterIndex index, string? treeA, string? treeB, string prefix, List<DiffEntry> result, CancellationToken ct)
    {
        if (treeA == treeB) return;
        var nodesA = treeA is null ? [] : (await index.LoadTreeAsync(repo, BlobId.Parse(treeA), ct).ConfigureAwait(false)).Nodes;
        var nodesB = treeB is null ? [] : (await index.LoadTreeAsync(repo, BlobId.Parse(treeB), ct).ConfigureAwait(false)).Nodes;
        var byNameA = nodesA.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var byNameB = nodesB.ToDictionary(n => n.Name, StringComparer.Ordinal);
        foreach (var name in byNameA.Keys.Union(byNameB.Keys).Order(StringComparer.Ordinal))
        {
            var path = prefix.Length == 0 ? name : prefix + "/" + name;
            byNameA.TryGetValue(name, out var na);
            byNameB.TryGetValue(name, out var nb);
            if (na is null || nb is null)
            {
                var n = (na ?? nb)!;
                result.Add(new DiffEntry(path, na is null ? DiffKind.Added : DiffKind.Removed, ListTreeOperation.TypeOf(n)));
                if (n.Type == Node.Dir)
                    await CompareAsync(index, na?.Subtree, nb?.Subtree, path, result, ct).ConfigureAwait(false);
                continue;
            }
            if (na.Type != nb.Type)
            {
                result.Add(new DiffEntry(path, DiffKind.Modified, ListTreeOperation.TypeOf(nb)));
                await CompareAsync(index, na.Type == Node.Dir ? na.Subtree : null, nb.Type == Node.Dir ? nb.Subtree : null, path, result, ct).ConfigureAwait(false);
                continue;
            }
            if (na.Type == Node.Dir)
            {
                await CompareAsync(index, na.Subtree, nb.Subtree, path, result, ct).ConfigureAwait(false);
                continue;
            }
            var changed = na.Size != nb.Size || na.Mode != nb.Mode || na.LinkTarget != nb.LinkTarget
                || !(na.Content ?? []).SequenceEqual(nb.Content ?? []);
            if (changed) result.Add(new DiffEntry(path, DiffKind.Modified, ListTreeOperation.TypeOf(nb)));
        }
    }
}
