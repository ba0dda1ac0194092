using System.Text.Json.Serialization;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// Holds on snapshots written before their repository's owner made them immutable: one small sealed object
/// <c>holds/&lt;sha256&gt;</c> maps snapshot ids to the time each must be kept until, and lists the snapshots held with no
/// end (a point "kept until deleted": no retention date) until the owner releases them. A snapshot's own
/// <see cref="Snapshot.KeepUntil"/> is written with it and cannot be added later without changing its id; a hold adds the
/// same floor to a snapshot that exists. Forget refuses a held snapshot as it refuses one with its own keep-until, and
/// listings report the later of the two. Dated holds only grow: a write keeps every unexpired hold of a snapshot still
/// there (the later time where two say different things), then removes the objects it read. Holds with no end go only by
/// <see cref="ReleaseAsync"/>. Two writers at once lose nothing: each new object carries everything of the objects it
/// removes, and an object written meanwhile is not among them. Check and prune leave these objects alone; replication
/// copies them.
/// </summary>
internal sealed class HoldOperation(Repo repo)
{
    /// <summary>
    /// Adds <paramref name="holds"/> (snapshot id or unique prefix → keep until) and <paramref name="untilReleased"/>
    /// (snapshots held with no end); returns how many snapshots are held now.
    /// </summary>
    public async Task<int> AddAsync(IReadOnlyDictionary<string, DateTimeOffset> holds, IReadOnlyCollection<string>? untilReleased, CancellationToken ct)
    {
        var snapshots = await SnapshotCatalog.LoadAllAsync(repo, ct).ConfigureAwait(false);
        var present = snapshots.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var now = repo.Time.GetUtcNow();
        var loaded = await LoadAsync(ct).ConfigureAwait(false);
        var kept = loaded.Holds.Where(h => present.Contains(h.Key) && h.Value > now).ToDictionary(StringComparer.Ordinal);
        var open = loaded.UntilReleased.Where(present.Contains).ToHashSet(StringComparer.Ordinal);
        foreach (var (reference, until) in holds)
        {
            var id = SnapshotCatalog.Resolve(snapshots, reference).Id;
            if (until > now && (!kept.TryGetValue(id, out var existing) || existing < until))
                kept[id] = until;
        }

        foreach (var reference in untilReleased ?? [])
            open.Add(SnapshotCatalog.Resolve(snapshots, reference).Id);

        await SaveAsync(loaded, kept, open, now, ct).ConfigureAwait(false);
        return kept.Keys.Union(open).Count();
    }

    /// <summary>
    /// Releases every hold with no end (the owner made the repository mutable again); dated holds stay. Returns how many
    /// snapshots were released.
    /// </summary>
    public async Task<int> ReleaseAsync(CancellationToken ct)
    {
        var now = repo.Time.GetUtcNow();
        var loaded = await LoadAsync(ct).ConfigureAwait(false);
        if (loaded.UntilReleased.Count == 0)
            return 0;
        await SaveAsync(loaded, loaded.Holds.Where(h => h.Value > now).ToDictionary(StringComparer.Ordinal), [], now, ct).ConfigureAwait(false);
        return loaded.UntilReleased.Count;
    }

    private async Task SaveAsync(HoldState loaded, Dictionary<string, DateTimeOffset> kept, HashSet<string> open, DateTimeOffset now, CancellationToken ct)
    {
        if (kept.Count == loaded.Holds.Count && kept.All(k => loaded.Holds.TryGetValue(k.Key, out var m) && m == k.Value) && open.SetEquals(loaded.UntilReleased))
            return; // nothing new
        var name = await repo.SaveJsonAsync(Repo.HoldsPrefix,
            new HoldObject { Written = now, Snapshots = kept, UntilReleased = [.. open.Order(StringComparer.Ordinal)] }, RepoJson.Default.HoldObject, ct).ConfigureAwait(false);
        foreach (var other in loaded.Names.Where(n => n != name))
            await repo.Store.DeleteAsync(other, CancellationToken.None).ConfigureAwait(false); // the new object holds all they did that still matters
    }

    /// <summary>Every hold of every readable hold object (the later time per snapshot), the snapshots held with no end, and the objects' names.</summary>
    public async Task<HoldState> LoadAsync(CancellationToken ct)
    {
        var holds = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var open = new HashSet<string>(StringComparer.Ordinal);
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
            open.UnionWith(hold.UntilReleased ?? []);
        }

        return new HoldState(holds, open, readable);
    }

    /// <summary>The later of a snapshot's own keep-until and its hold.</summary>
    public static DateTimeOffset? Later(DateTimeOffset? own, IReadOnlyDictionary<string, DateTimeOffset> holds, string id) =>
        holds.TryGetValue(id, out var held) && (own is null || held > own) ? held : own;
}

/// <summary>What the hold objects say together: dated holds, holds with no end, and the readable objects' names.</summary>
internal sealed record HoldState(Dictionary<string, DateTimeOffset> Holds, HashSet<string> UntilReleased, List<string> Names);

/// <summary>The sealed <c>holds/&lt;sha256&gt;</c> object: when it was written, snapshot id → keep until, and the snapshots held with no end.</summary>
internal sealed class HoldObject
{
    [JsonPropertyName("version")] public int Version { get; set; } = 1;
    [JsonPropertyName("written")] public DateTimeOffset Written { get; set; }
    [JsonPropertyName("snapshots")] public Dictionary<string, DateTimeOffset> Snapshots { get; set; } = [];

    /// <summary>Held until the owner releases them (absent in objects written before such holds existed).</summary>
    [JsonPropertyName("untilReleased")] public List<string>? UntilReleased { get; set; }
}
