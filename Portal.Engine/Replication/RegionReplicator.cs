using Portal.Engine.Storage;

namespace Portal.Engine.Replication;

/// <summary>
/// GRS: copies a repository from its primary region to the paired (secondary) region, in the repository's
/// order, so that the secondary is always consistent: a recovery point appears there only after every
/// object it needs.
/// </summary>
/// <remarks>
/// <para>Stateless and durable by construction: each pass diffs the two listings and copies only what the
/// secondary lacks, so a pass interrupted by a crash or an outage simply resumes on the next one and never
/// copies an object twice.</para>
/// <para>Order: the primary's snapshots are listed <i>first</i>, then everything else, so that every object a
/// listed snapshot needs (written before it) is in the second listing. Keys and config, packs and indexes are
/// copied before any snapshot; snapshots only when all of those succeeded. Objects the primary no longer has
/// (forgotten snapshots, pruned packs and indexes) are removed from the secondary afterwards, snapshots first.</para>
/// </remarks>
public sealed class RegionReplicator(IObjectStore primary, IObjectStore secondary, TimeProvider? time = null)
{
    private static readonly string[] Order = ["keys/", "config", "data/", "index/", "vault/", "holds/"];
    private readonly TimeProvider clock = time ?? TimeProvider.System;

    /// <summary>What the secondary lacks now (objects, bytes, and the oldest recovery point not there yet).</summary>
    public async Task<ReplicationLag> MeasureLagAsync(CancellationToken cancellationToken = default)
    {
        var (snapshots, others) = await ListPrimaryAsync(cancellationToken).ConfigureAwait(false);
        var have = await NamesAsync(secondary, cancellationToken).ConfigureAwait(false);
        var missing = others.Concat(snapshots).Where(o => !have.Contains(o.Name)).ToList();
        var oldest = snapshots.Where(s => !have.Contains(s.Name)).Select(s => (DateTimeOffset?)s.LastModified).Min();
        return new ReplicationLag(missing.Count, missing.Sum(o => o.Length), oldest is null ? null : clock.GetUtcNow() - oldest.Value);
    }

    /// <summary>One replication pass: copies what the secondary lacks, in order, then removes what the primary dropped.</summary>
    public async Task<ReplicationResult> ReplicateAsync(IProgress<ReplicationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (snapshots, others) = await ListPrimaryAsync(cancellationToken).ConfigureAwait(false);
        var have = await NamesAsync(secondary, cancellationToken).ConfigureAwait(false);
        var toCopy = others.Where(o => !have.Contains(o.Name)).OrderBy(o => Rank(o.Name)).ToList();
        var snapshotsToCopy = snapshots.Where(s => !have.Contains(s.Name)).OrderBy(s => s.LastModified).ToList();
        var total = new ReplicationProgress(0, toCopy.Count + snapshotsToCopy.Count, 0, toCopy.Sum(o => o.Length) + snapshotsToCopy.Sum(o => o.Length));
        var done = total with { ObjectsDone = 0, BytesDone = 0 };
        progress?.Report(done);

        foreach (var info in toCopy.Concat(snapshotsToCopy))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var data = await primary.GetAsync(info.Name, cancellationToken).ConfigureAwait(false);
            if (!ObjectIntegrity.Matches(info.Name, data))
                throw new ObjectCorruptException(info.Name, "the primary's copy does not match its hash; it was not replicated.");
            await secondary.PutAsync(info.Name, data, cancellationToken).ConfigureAwait(false);
            done = done with { ObjectsDone = done.ObjectsDone + 1, BytesDone = done.BytesDone + data.Length };
            progress?.Report(done);
        }

        // Remove what the primary no longer has, in the reverse of the write order: snapshots first.
        var primaryNames = snapshots.Concat(others).Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var stale = have.Where(n => !primaryNames.Contains(n) && !n.StartsWith("locks/", StringComparison.Ordinal))
            .OrderBy(n => n.StartsWith("snapshots/", StringComparison.Ordinal) ? 0 : n.StartsWith("index/", StringComparison.Ordinal) ? 1 : 2)
            .ToList();
        var removed = 0;
        foreach (var name in stale)
        {
            if (await primary.StatAsync(name, cancellationToken).ConfigureAwait(false) is not null)
                continue; // written after the listing
            await secondary.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            removed++;
        }

        return new ReplicationResult(done.ObjectsDone, done.BytesDone, removed);
    }

    /// <summary>
    /// GRS → LRS: removes the repository's copy from the secondary region (recovery points first, so the
    /// secondary never shows a point whose data is gone). The primary is not touched.
    /// </summary>
    /// <returns>How many objects were removed.</returns>
    public async Task<int> RemoveSecondaryCopyAsync(IProgress<ReplicationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var names = (await NamesAsync(secondary, cancellationToken).ConfigureAwait(false))
            .OrderBy(n => n.StartsWith("snapshots/", StringComparison.Ordinal) ? 0 : n.StartsWith("index/", StringComparison.Ordinal) ? 1 : 2)
            .ToList();
        var done = 0;
        foreach (var name in names)
        {
            await secondary.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            progress?.Report(new ReplicationProgress(++done, names.Count, 0, 0));
        }

        return done;
    }

    private async Task<(List<ObjectInfo> Snapshots, List<ObjectInfo> Others)> ListPrimaryAsync(CancellationToken cancellationToken)
    {
        var snapshots = new List<ObjectInfo>();
        await foreach (var info in primary.ListAsync("snapshots/", cancellationToken).ConfigureAwait(false))
            snapshots.Add(info);
        var others = new List<ObjectInfo>();
        await foreach (var info in primary.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
            if (Rank(info.Name) < Order.Length)
                others.Add(info);
        }

        return (snapshots, others);
    }

    private static async Task<HashSet<string>> NamesAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var info in store.ListAsync("", cancellationToken).ConfigureAwait(false))
            names.Add(info.Name);
        return names;
    }

    /// <summary>Position in the copy order; snapshots and locks rank after everything copied first.</summary>
    private static int Rank(string name)
    {
        for (var i = 0; i < Order.Length; i++)
        {
            if (name == Order[i] || name.StartsWith(Order[i], StringComparison.Ordinal))
                return i;
        }

        return Order.Length;
    }
}

/// <summary>How far the secondary is behind: objects and bytes to copy, and the age of the oldest recovery point not yet there.</summary>
public sealed record ReplicationLag(int Objects, long Bytes, TimeSpan? OldestUnreplicatedRecoveryPoint)
{
    /// <summary>True when the secondary holds everything the primary has.</summary>
    public bool CaughtUp => Objects == 0;
}

/// <summary>Progress of a replication pass.</summary>
public sealed record ReplicationProgress(int ObjectsDone, int ObjectsTotal, long BytesDone, long BytesTotal);

/// <summary>What a replication pass did.</summary>
public sealed record ReplicationResult(int ObjectsCopied, long BytesCopied, int ObjectsRemoved);
