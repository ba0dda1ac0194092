using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>Removes snapshot manifests by id or prefix. Their data stays until a prune.</summary>
internal sealed class ForgetOperation(Repo repo)
{
    public async Task<IReadOnlyList<string>> RunAsync(IEnumerable<string> references, CancellationToken ct)
    {
        var all = await SnapshotCatalog.LoadAllAsync(repo, ct).ConfigureAwait(false);
        var doomed = references.Select(r => SnapshotCatalog.Resolve(all, r)).DistinctBy(s => s.Id).ToList(); // all resolve before any delete
        foreach (var s in doomed) await repo.Store.DeleteAsync(s.ObjectName, ct).ConfigureAwait(false);
        return doomed.Select(s => s.Id).ToList();
    }
}
