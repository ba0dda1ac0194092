namespace Portal.Engine.Repository;

/// <summary>A snapshot with its id (the hex part of its object name).</summary>
internal sealed record StoredSnapshot(string Id, Snapshot Snapshot)
{
    public string ObjectName => Repo.SnapshotsPrefix + Id;
}

/// <summary>Loads snapshot manifests and resolves references: a full id, a unique prefix, or "latest".</summary>
internal static class SnapshotCatalog
{
    /// <summary>Snapshot objects read at once.</summary>
    private const int ReadsAtOnce = 16;

    /// <summary>
    /// Loads every snapshot. A damaged manifest is skipped (check reports it) unless <paramref name="strict"/>:
    /// prune must never treat data as unused because the snapshot that needs it could not be read.
    /// </summary>
    public static async Task<List<StoredSnapshot>> LoadAllAsync(Repo repo, CancellationToken ct, bool strict = false)
    {
        // Read side by side: an item keeps up to 9,999 points, and one object after another costs a round trip each
        // (a few milliseconds on Azure Blob storage, every backup, check, forget and prune).
        var names = await repo.ListNamesAsync(Repo.SnapshotsPrefix, ct).ConfigureAwait(false);
        var loaded = new StoredSnapshot?[names.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count), new ParallelOptions { MaxDegreeOfParallelism = ReadsAtOnce, CancellationToken = ct },
            async (i, token) =>
            {
                Snapshot snap;
                try { snap = await repo.LoadJsonAsync(names[i], RepoJson.Default.Snapshot, token).ConfigureAwait(false); }
                catch (DamagedObjectException) when (!strict) { return; }
                catch (DamagedObjectException e)
                {
                    throw new RepositoryException($"Stopped without deleting anything: {e.Message} Run check.", e);
                }
                loaded[i] = new StoredSnapshot(names[i][Repo.SnapshotsPrefix.Length..], snap);
            }).ConfigureAwait(false);
        var list = loaded.OfType<StoredSnapshot>().ToList();
        list.Sort((a, b) => a.Snapshot.Time != b.Snapshot.Time
            ? a.Snapshot.Time.CompareTo(b.Snapshot.Time)
            : string.CompareOrdinal(a.Id, b.Id));
        return list;
    }

    public static StoredSnapshot Resolve(IReadOnlyList<StoredSnapshot> all, string reference)
    {
        if (reference == "latest")
            return all.Count > 0 ? all[^1] : throw new SnapshotNotFoundException(reference);
        var matches = all.Where(s => s.Id.StartsWith(reference, StringComparison.OrdinalIgnoreCase)).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new SnapshotNotFoundException(reference),
            _ => throw new RepositoryException($"The snapshot prefix '{reference}' is ambiguous; give more characters."),
        };
    }

    /// <summary>
    /// Resolves many references at once (a forget of thousands of points): full ids by a lookup, prefixes and
    /// "latest" as <see cref="Resolve"/> does.
    /// </summary>
    public static List<StoredSnapshot> ResolveAll(IReadOnlyList<StoredSnapshot> all, IEnumerable<string> references)
    {
        var byId = new Dictionary<string, StoredSnapshot>(all.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var s in all) byId[s.Id] = s;
        return references.Select(r => r.Length == Crypto.BlobId.Size * 2 && byId.TryGetValue(r, out var s) ? s : Resolve(all, r)).ToList();
    }

    public static async Task<StoredSnapshot> ResolveAsync(Repo repo, string reference, CancellationToken ct) =>
        Resolve(await LoadAllAsync(repo, ct).ConfigureAwait(false), reference);
}
