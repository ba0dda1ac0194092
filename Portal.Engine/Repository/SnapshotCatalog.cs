namespace Portal.Engine.Repository;

/// <summary>A snapshot with its id (the hex part of its object name).</summary>
internal sealed record StoredSnapshot(string Id, Snapshot Snapshot)
{
    public string ObjectName => Repo.SnapshotsPrefix + Id;
}

/// <summary>Loads snapshot manifests and resolves references: a full id, a unique prefix, or "latest".</summary>
internal static class SnapshotCatalog
{
    /// <summary>
    /// Loads every snapshot. A damaged manifest is skipped (check reports it) unless <paramref name="strict"/>:
    /// prune must never treat data as unused because the snapshot that needs it could not be read.
    /// </summary>
    public static async Task<List<StoredSnapshot>> LoadAllAsync(Repo repo, CancellationToken ct, bool strict = false)
    {
        var list = new List<StoredSnapshot>();
        foreach (var name in await repo.ListNamesAsync(Repo.SnapshotsPrefix, ct).ConfigureAwait(false))
        {
            Snapshot snap;
            try { snap = await repo.LoadJsonAsync(name, RepoJson.Default.Snapshot, ct).ConfigureAwait(false); }
            catch (DamagedObjectException) when (!strict) { continue; }
            catch (DamagedObjectException e)
            {
                throw new RepositoryException($"Stopped without deleting anything: {e.Message} Run check.", e);
            }
            list.Add(new StoredSnapshot(name[Repo.SnapshotsPrefix.Length..], snap));
        }
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

    public static async Task<StoredSnapshot> ResolveAsync(Repo repo, string reference, CancellationToken ct) =>
        Resolve(await LoadAllAsync(repo, ct).ConfigureAwait(false), reference);
}
