using Portal.Engine.Crypto;
using Portal.Engine.Repository;
using Portal.Engine.Storage;

namespace Portal.Engine.Operations;

/// <summary>
/// Rebuilds the index from the packs themselves (restic's <c>repair index</c>): every pack's sealed header lists its
/// blobs, so one new index object is written for every pack whose header reads, and only then are the old index
/// objects removed. Stale entries (packs that are gone), damaged index objects and packs no index knew are all
/// healed at once. Under the exclusive lock, so no backup adds an index meanwhile. Packs are never deleted here:
/// an unreadable pack is named and left for check and prune.
/// </summary>
internal sealed class RepairIndexOperation(Repo repo)
{
    public async Task<RepairIndexResult> RunAsync(CancellationToken ct)
    {
        await using var repoLock = await RepoLock.AcquireAsync(repo, exclusive: true, "repair index", ct).ConfigureAwait(false);
        var oldIndexes = await repo.ListNamesAsync(Repo.IndexPrefix, ct).ConfigureAwait(false);
        var packs = new List<IndexedPack>();
        var unreadable = new List<string>();
        await foreach (var o in repo.Store.ListAsync(Repo.DataPrefix, ct).ConfigureAwait(false))
        {
            if (!BlobId.TryParse(o.Name[(o.Name.LastIndexOf('/') + 1)..], out var packId)) continue;
            try
            {
                packs.Add(new IndexedPack(packId, await PackFormat.ReadHeaderAsync(repo, o.Name, o.Length, ct).ConfigureAwait(false)));
            }
            catch (Exception e) when (e is InvalidDataException or ObjectNotFoundException or ObjectTruncatedException or ObjectCorruptException)
            {
                unreadable.Add($"{o.Name}: its header cannot be read ({e.Message}); left in place, not indexed.");
            }
            await repoLock.RefreshIfDueAsync(ct).ConfigureAwait(false);
        }
        string? newName = null;
        if (packs.Count > 0) newName = await repo.SaveIndexAsync(packs, ct).ConfigureAwait(false);
        var removed = 0;
        foreach (var old in oldIndexes.Where(n => n != newName))
        {
            try { await repo.Store.DeleteAsync(old, CancellationToken.None).ConfigureAwait(false); }
            catch (ObjectNotFoundException) { continue; }
            removed++;
        }
        return new RepairIndexResult
        {
            PacksIndexed = packs.Count, BlobsIndexed = packs.Sum(p => (long)p.Blobs.Count), OldIndexesRemoved = removed, Unreadable = unreadable,
        };
    }
}
