using Portal.Engine.Crypto;

namespace Portal.Engine.Repository;

/// <summary>
/// Packs stored by a backup that stopped before writing its index (a crash or a kill) are complete and
/// self-describing: their sealed header lists their blobs. Indexing them lets the next backup reuse them.
/// </summary>
internal static class OrphanPacks
{
    public static async Task<int> AdoptAsync(Repo repo, MasterIndex index, List<string> warnings, CancellationToken ct,
        DateTimeOffset? writtenBefore = null, bool save = true)
    {
        var adopted = new List<IndexedPack>();
        await foreach (var o in repo.Store.ListAsync(Repo.DataPrefix, ct).ConfigureAwait(false))
        {
            var hex = o.Name[(o.Name.LastIndexOf('/') + 1)..];
            if (!BlobId.TryParse(hex, out var packId) || index.HasPack(packId)) continue;
            if (writtenBefore is { } limit && o.LastModified >= limit) continue;
            List<(BlobId Id, byte Type, uint Offset, uint Length)> entries;
            try
            {
                entries = await PackFormat.ReadHeaderAsync(repo, o.Name, o.Length, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidDataException or Storage.StoreException)
            {
                warnings.Add($"{o.Name}: unindexed pack cannot be read ({e.Message}); prune removes it.");
                continue;
            }
            index.AddPack(packId, entries);
            adopted.Add(new IndexedPack(packId, entries));
        }
        if (save && adopted.Count > 0) await repo.SaveIndexAsync(adopted, ct).ConfigureAwait(false);
        return adopted.Count;
    }
}
