using System.Text.Json.Serialization;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// Holds on snapshots written before their repository's owner made them immutable: one small sealed object
/// <c>holds/&lt;sha256&gt;</c> maps snapshot ids to the time each must be kept until. A snapshot's own
/// <see cref="Snapshot.KeepUntil"/> is written with it and cannot be added later without changing its id; a hold adds the
/// same floor to a snapshot that exists. Forget refuses a held snapshot as it refuses one with its own keep-until, and
/// listings report the later of the two. Holds only grow: a write keeps every unexpired hold of a snapshot still there
/// (the later time where two say different things), then removes the older objects. Check and prune leave these objects
/// alone; replication copies them.
/// </summary>
internal sealed class HoldOperation(Repo repo)
{
    /// <summary>Adds <paramref name="holds"/> (snapshot id or unique prefix → keep until); returns how many snapshots are held now.</summary>
    public async Task<int> AddAsync(IReadOnlyDictionary<string, DateTimeOffset> holds, CancellationToken ct)
    {
        var snapshots = await SnapshotCatalog.LoadAllAsync(repo, ct).ConfigureAwait(false);
        var present = snapshots.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var now = repo.Time.GetUtcNow();
        var (merged, names) = await LoadAsync(ct).ConfigureAwait(false);
        var kept = merged.Where(h => present.Contains(h.Key) && h.Value > now).ToDictionary(StringComparer.Ordinal);
        foreach (var (reference, until) in holds)
        {
            var id = SnapshotCatalog.Resolve(snapshots, reference).Id;
            if (until > now && (!kept.TryGetValue(id, out var existing) || existing < until))
                kept[id] = until;
        }

        if (kept.Count == merged.Count && kept.All(k => merged.TryGetValue(k.Key, out var m) && m == k.Value))
            return kept.Count; // nothing new
        var name = await repo.SaveJsonAsync(Repo.HoldsPrefix, new HoldObject { Written = now, Snapshots = kept },
            RepoJson.Default.HoldObject, ct).ConfigureAwait(false);
        foreach (var other in names.Where(n => n != name))
            await repo.Store.DeleteAsync(other, CancellationToken.None).ConfigureAwait(false); // the new object holds all they did that still matters
        return kept.Count;
    }

    /// <summary>Every hold of every readable hold object (the later time per snapshot), and the objects' names.</summary>
    public async Task<(Dictionary<string, DateTimeOffset> Holds, List<string> Names)> LoadAsync(CancellationToken ct)
    {
        var holds = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var names = await repo.ListNamesAsync(Repo.HoldsPrefix, ct).ConfigureAwait(false);
        var readable = new List<string>();
        foreach (var name in names)
        {
            HoldObject hold;
            try
            {
                hold = await repo.LoadJsonAsync(name, RepoJson.Default.HoldObject, ct).ConfigureAwait(false);
            }
            catch (DamagedObjectException)
            {
                continue; // a damaged hold object stays in storage (never deleted by a write), and the others still count
            }

            readable.Add(name);
            foreach (var (id, until) in hold.Snapshots)
                if (!holds.TryGetValue(id, out var existing) || existing < until)
                    holds[id] = until;
        }

        return (holds, readable);
    }

    /// <summary>The later of a snapshot's own keep-until and its hold.</summary>
    public static DateTimeOffset? Later(DateTimeOffset? own, IReadOnlyDictionary<string, DateTimeOffset> holds, string id) =>
        holds.TryGetValue(id, out var held) && (own is null || held > own) ? held : own;
}

/// <summary>The sealed <c>holds/&lt;sha256&gt;</c> object: when it was written, and snapshot id → keep until.</summary>
internal sealed class HoldObject
{
    [JsonPropertyName("version")] public int Version { get; set; } = 1;
    [JsonPropertyName("written")] public DateTimeOffset Written { get; set; }
    [JsonPropertyName("snapshots")] public Dictionary<string, DateTimeOffset> Snapshots { get; set; } = [];
}
