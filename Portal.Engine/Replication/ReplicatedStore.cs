using System.Runtime.CompilerServices;
using Portal.Engine.Storage;

namespace Portal.Engine.Replication;

/// <summary>
/// LRS: one logical store over a region's replicas (three folders or containers), itself an <see cref="IObjectStore"/>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><description><b>Put</b> succeeds when every replica holds the object, or when a majority does and the rest
/// failed transiently: the missing copies are recorded in the repair journal (<see cref="IRepairJournal"/>, durable
/// when the caller gives one) for <see cref="RepairPendingAsync"/>. Fewer than a majority fails the put.</description></item>
/// <item><description><b>Staged puts</b> (<see cref="IStagedPutStore"/>, when every replica can stage) stream the bytes to
/// every replica at once and commit with the same majority rule: a replica whose write or commit fails transiently, or
/// that holds other bytes under a content-addressed name (a damaged copy), is journaled for repair.</description></item>
/// <item><description><b>Get</b> verifies content-addressed objects (<see cref="ObjectIntegrity"/>) and falls back to the
/// next replica when a copy is missing or damaged, then heals the bad copies from the good one (a heal that fails is
/// journaled).</description></item>
/// <item><description><b>Range reads</b> of content-addressed objects verify the whole object once and serve ranges
/// from a small cache of verified objects, so a damaged copy is never returned piecemeal.</description></item>
/// <item><description><b>Delete</b> must reach every replica; otherwise it throws and the caller retries.</description></item>
/// <item><description><see cref="ScrubAsync"/> compares the replicas' listings and contents and heals every divergence:
/// the durable repair, which needs no memory of earlier failures.</description></item>
/// </list>
/// </remarks>
public sealed class ReplicatedStore : IStagedPutStore, IFolderListingStore
{
    private const int CachedObjects = 4;
    private readonly IReadOnlyList<IObjectStore> replicas;
    private readonly IRepairJournal journal;
    private readonly LinkedList<(string Name, byte[] Data)> verified = new();
    private readonly Lock cacheLock = new();

    /// <summary>A store over <paramref name="replicas"/> (one to three; LRS uses three).</summary>
    /// <param name="replicas">The region's replicas, in a fixed order: journal entries name them by index.</param>
    /// <param name="journal">Where copies awaiting repair are recorded (default: in memory, lost at exit).</param>
    public ReplicatedStore(IReadOnlyList<IObjectStore> replicas, IRepairJournal? journal = null)
    {
        if (replicas.Count is < 1 or > 9) throw new ArgumentOutOfRangeException(nameof(replicas), "Use one to nine replicas.");
        this.replicas = replicas;
        this.journal = journal ?? new InMemoryRepairJournal();
    }

    /// <summary>How many replicas must hold an object for a put to succeed.</summary>
    public int Quorum => replicas.Count / 2 + 1;

    /// <summary>How many replicas the region has.</summary>
    public int ReplicaCount => replicas.Count;

    /// <summary>Copies that are known to be missing or damaged, with why, waiting for <see cref="RepairPendingAsync"/> (read from the journal).</summary>
    public Task<IReadOnlyList<ReplicaIssue>> ListPendingRepairsAsync(CancellationToken cancellationToken = default) => journal.ListAsync(cancellationToken);

    /// <inheritdoc />
    public async Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var results = await Task.WhenAll(replicas.Select((r, i) => Attempt(() => r.PutAsync(name, data, cancellationToken)))).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        // A replica holding different bytes under a content-addressed name holds a damaged copy (our bytes match the
        // name): replace it rather than fail the write.
        if (ObjectIntegrity.IsContentAddressed(name) && ObjectIntegrity.Matches(name, data.Span))
        {
            for (var i = 0; i < results.Length; i++)
            {
                if (results[i] is not ObjectExistsException)
                    continue;
                var damaged = new List<(int Replica, string Why)> { (i, "damaged (hash mismatch)") };
                var notHealed = await HealAsync(name, data.ToArray(), damaged, cancellationToken).ConfigureAwait(false);
                results[i] = notHealed > 0 ? new StoreException($"damaged copy on replica {i + 1} could not be replaced", true) : null;
            }
        }

        if (results.FirstOrDefault(e => e is StoreException { IsTransient: false }) is { } permanent)
            throw permanent;
        var failed = results.Select((e, i) => (e, i)).Where(x => x.e is not null).ToList();
        if (replicas.Count - failed.Count < Quorum)
            throw new StoreException(
                $"Only {replicas.Count - failed.Count} of {replicas.Count} replicas stored '{name}' (a majority is needed): {failed[0].e!.Message}",
                isTransient: true, failed[0].e);
        foreach (var (e, i) in failed)
            await JournalAsync(() => journal.RecordAsync(name, i, $"put failed: {e!.Message}", cancellationToken), name).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public bool CanStage => replicas.All(r => r is IStagedPutStore { CanStage: true });

    /// <inheritdoc />
    public Task<IStagedObject> BeginPutAsync(string prefix, CancellationToken cancellationToken = default) =>
        CanStage
            ? BeginOnEveryReplicaAsync(prefix, (replica, ct) => replica.BeginPutAsync(prefix, ct), cancellationToken)
            : throw new NotSupportedException("A replica of this region cannot stage objects (check CanStage first).");

    /// <inheritdoc />
    public bool CanStageNamed => replicas.All(r => r is IStagedPutStore { CanStageNamed: true });

    /// <summary>Stages <paramref name="name"/> on every replica, each as it can (Azure Blob: blocks of the named blob; a local disk: a temporary file).</summary>
    public Task<IStagedObject> BeginNamedPutAsync(string name, CancellationToken cancellationToken = default) =>
        CanStageNamed
            ? BeginOnEveryReplicaAsync(name, (replica, ct) => replica.BeginNamedPutAsync(name, ct), cancellationToken)
            : throw new NotSupportedException("A replica of this region cannot stage objects (check CanStageNamed first).");

    private async Task<IStagedObject> BeginOnEveryReplicaAsync(string prefix, Func<IStagedPutStore, CancellationToken, Task<IStagedObject>> begin,
        CancellationToken cancellationToken)
    {
        var staged = new IStagedObject?[replicas.Count];
        var failed = new StoreException?[replicas.Count];
        for (var i = 0; i < replicas.Count; i++)
        {
            try
            {
                staged[i] = await begin((IStagedPutStore)replicas[i], cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException e)
            {
                failed[i] = e;
            }
        }

        var replicated = new ReplicatedObject(this, staged, failed);
        try
        {
            replicated.ThrowIfBelowQuorum(prefix);
        }
        catch
        {
            await replicated.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return replicated;
    }

    /// <summary>One staged object on every replica; a replica that fails drops out, the object fails below a majority.</summary>
    private sealed class ReplicatedObject(ReplicatedStore store, IStagedObject?[] staged, StoreException?[] failed) : IStagedObject
    {
        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            if (staged.Length == 1)
            {
                await staged[0]!.WriteAsync(data, cancellationToken).ConfigureAwait(false); // nothing to fall back to
                return;
            }

            await Task.WhenAll(staged.Select((s, i) => s is null ? Task.CompletedTask : WriteOneAsync(i, data, cancellationToken))).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfBelowQuorum("the object being written");
        }

        public async Task CommitAsync(string name, CancellationToken cancellationToken = default)
        {
            var results = await Task.WhenAll(staged.Select((s, i) => s is null ? Task.FromResult<StoreException?>(null) : Attempt(() => s.CommitAsync(name, cancellationToken))))
                .ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            for (var i = 0; i < results.Length; i++)
            {
                if (results[i] is ObjectExistsException && ObjectIntegrity.IsContentAddressed(name))
                    results[i] = new StoreException($"replica {i + 1} holds other bytes under '{name}' (a damaged copy); repair replaces it", isTransient: true);
                failed[i] ??= results[i];
            }

            if (failed.FirstOrDefault(e => e is { IsTransient: false }) is { } permanent)
                throw permanent; // as a put: a replica that refuses for good is an error to see, not a copy to repair
            ThrowIfBelowQuorum(name);
            for (var i = 0; i < failed.Length; i++)
                if (failed[i] is { } e)
                    await JournalAsync(() => store.journal.RecordAsync(name, i, $"put failed: {e.Message}", cancellationToken), name).ConfigureAwait(false);
        }

        public void ThrowIfBelowQuorum(string name)
        {
            var stored = failed.Count(e => e is null);
            if (stored >= store.Quorum)
                return;
            var first = failed.First(e => e is not null)!;
            if (!first.IsTransient)
                throw first;
            throw new StoreException(
                $"Only {stored} of {failed.Length} replicas could store '{name}' (a majority is needed): {first.Message}", isTransient: true, first);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var s in staged)
                if (s is not null)
                    await s.DisposeAsync().ConfigureAwait(false);
        }

        private async Task WriteOneAsync(int replica, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            try
            {
                await staged[replica]!.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException e)
            {
                failed[replica] = e;
                var dropped = staged[replica]!;
                staged[replica] = null;
                await dropped.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var bad = new List<(int Replica, string Why)>();
        StoreException? transient = null;
        for (var i = 0; i < replicas.Count; i++)
        {
            byte[] data;
            try
            {
                data = await replicas[i].GetAsync(name, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectNotFoundException)
            {
                bad.Add((i, "missing"));
                continue;
            }
            catch (StoreException e) when (e.IsTransient)
            {
                transient ??= e;
                continue;
            }

            if (!ObjectIntegrity.Matches(name, data))
            {
                bad.Add((i, "damaged (hash mismatch)"));
                continue;
            }

            try
            {
                await HealAsync(name, data, bad, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException) when (bad.Count > 0)
            {
                // Only the journal failed (heals themselves are caught): the read still has its good copy, and the
                // next scrub finds the bad one again.
            }

            return data;
        }

        if (transient is not null)
            throw transient;
        if (bad.All(b => b.Why == "missing"))
            throw new ObjectNotFoundException(name);
        throw new ObjectCorruptException(name, $"no replica holds a good copy ({string.Join(", ", bad.Select(b => $"replica {b.Replica + 1} {b.Why}"))}).");
    }

    /// <inheritdoc />
    public async Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (!ObjectIntegrity.IsContentAddressed(name))
        {
            await FirstAvailable(r => r.ReadRangeAsync(name, offset, destination, cancellationToken), name).ConfigureAwait(false);
            return;
        }

        var data = Cached(name) ?? Remember(name, await GetAsync(name, cancellationToken).ConfigureAwait(false));
        if (offset + destination.Length > data.Length)
            throw new ObjectTruncatedException(name, data.Length, offset + destination.Length);
        data.AsMemory((int)offset, destination.Length).CopyTo(destination);
    }

    /// <inheritdoc />
    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default) =>
        FirstAvailable(async r => await r.StatAsync(name, cancellationToken).ConfigureAwait(false), name, nullMeansMissing: true);

    /// <inheritdoc />
    public bool CanListFolders => replicas.All(r => r is IFolderListingStore { CanListFolders: true });

    /// <summary>The union of the replicas' folders; a replica that cannot be listed is skipped unless all fail.</summary>
    public async IAsyncEnumerable<string> ListFoldersAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        StoreException? lastError = null;
        var listed = 0;
        foreach (var replica in replicas)
        {
            IReadOnlyList<string> names;
            try
            {
                names = await replica.ListFoldersAsync(prefix, cancellationToken).ConfigureAwait(false);
                listed++;
            }
            catch (StoreException e) when (e.IsTransient)
            {
                lastError = e;
                continue;
            }

            foreach (var name in names.Where(seen.Add))
                yield return name;
        }

        if (listed == 0 && lastError is not null)
            throw lastError;
    }

    /// <summary>The union of the replicas' listings; a replica that cannot be listed is skipped unless all fail.</summary>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        StoreException? lastError = null;
        var listed = 0;
        foreach (var replica in replicas)
        {
            var items = new List<ObjectInfo>();
            try
            {
                await foreach (var info in replica.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
                    items.Add(info);
                listed++;
            }
            catch (StoreException e) when (e.IsTransient)
            {
                lastError = e;
                continue;
            }

            foreach (var info in items.Where(info => seen.Add(info.Name)))
                yield return info;
        }

        if (listed == 0 && lastError is not null)
            throw lastError;
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var results = await Task.WhenAll(replicas.Select(r => Attempt(() => r.DeleteAsync(name, cancellationToken)))).ConfigureAwait(false);
        Forget(name);
        if (results.FirstOrDefault(e => e is not null) is { } error)
            throw new StoreException($"'{name}' was not deleted from every replica: {error.Message} Retry the operation.", error.IsTransient, error);
        // Journal entries of the deleted object are dropped by the next RepairPendingAsync (it finds no copy): a delete
        // (prune removes thousands) costs no journal round trip.
    }

    /// <summary>
    /// Writes the copies recorded in the journal (by degraded puts, reads and failed heals) from a good copy. A copy that
    /// turns out good already is dropped from the journal, as is every entry of an object no replica holds any more
    /// (deleted since). What still fails stays in the journal with its error; a replica that fails transiently is left
    /// alone for the rest of the pass (its other entries wait, unchanged, for the next one).
    /// </summary>
    /// <returns>How many recorded copies are good now.</returns>
    public async Task<int> RepairPendingAsync(CancellationToken cancellationToken = default)
    {
        var repaired = 0;
        var unreachable = new HashSet<int>(); // a replica that failed once in this pass is not asked again for every entry
        foreach (var group in (await journal.ListAsync(cancellationToken).ConfigureAwait(false)).GroupBy(p => p.Name, StringComparer.Ordinal))
        {
            byte[] good;
            try
            {
                good = await GetAsync(group.Key, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectNotFoundException)
            {
                foreach (var issue in group)
                    await journal.RemoveAsync(issue.Name, issue.Replica, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (StoreException e)
            {
                foreach (var issue in group)
                    await journal.RecordFailedRepairAsync(issue.Name, issue.Replica, $"no good copy could be read: {e.Message}", cancellationToken).ConfigureAwait(false);
                continue;
            }

            var bad = new List<(int Replica, string Why)>();
            foreach (var issue in group.Where(i => i.Replica < replicas.Count && !unreachable.Contains(i.Replica)))
            {
                string? why;
                try
                {
                    var copy = await replicas[issue.Replica].GetAsync(group.Key, cancellationToken).ConfigureAwait(false);
                    why = copy.AsSpan().SequenceEqual(good) ? null : "damaged (differs from the good copy)";
                }
                catch (ObjectNotFoundException)
                {
                    why = "missing";
                }
                catch (StoreException e)
                {
                    if (e.IsTransient)
                        unreachable.Add(issue.Replica);
                    await journal.RecordFailedRepairAsync(issue.Name, issue.Replica, e.Message, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (why is null)
                {
                    await journal.RemoveAsync(issue.Name, issue.Replica, cancellationToken).ConfigureAwait(false);
                    repaired++; // healed by the read above, or written again since
                }
                else
                {
                    bad.Add((issue.Replica, why));
                }
            }

            repaired += bad.Count - await HealAsync(group.Key, good, bad, cancellationToken).ConfigureAwait(false);
        }

        return repaired;
    }

    /// <summary>
    /// Compares every replica's objects (listing, and for content-addressed objects the bytes) and heals each
    /// missing or damaged copy from a good one. Objects with no good copy anywhere are reported, not touched.
    /// </summary>
    public async Task<ScrubReport> ScrubAsync(IProgress<ScrubProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var listings = new List<Dictionary<string, ObjectInfo>?>();
        foreach (var replica in replicas)
        {
            try
            {
                var map = new Dictionary<string, ObjectInfo>(StringComparer.Ordinal);
                await foreach (var info in replica.ListAsync("", cancellationToken).ConfigureAwait(false))
                    map[info.Name] = info;
                listings.Add(map);
            }
            catch (StoreException e) when (e.IsTransient)
            {
                listings.Add(null);
            }
        }

        var names = listings.Where(l => l is not null).SelectMany(l => l!.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var issues = new List<ReplicaIssue>();
        var healed = 0;
        var lost = new List<string>();
        var checkedCount = 0;
        foreach (var name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            byte[]? good = null;
            var bad = new List<(int Replica, string Why)>();
            for (var i = 0; i < replicas.Count; i++)
            {
                if (listings[i] is null)
                    continue; // unreachable replica: nothing to compare
                if (!listings[i]!.ContainsKey(name))
                {
                    bad.Add((i, "missing"));
                    continue;
                }

                if (good is not null && !ObjectIntegrity.IsContentAddressed(name))
                    continue;
                try
                {
                    var data = await replicas[i].GetAsync(name, cancellationToken).ConfigureAwait(false);
                    if (ObjectIntegrity.Matches(name, data)) good ??= data;
                    else bad.Add((i, "damaged (hash mismatch)"));
                }
                catch (ObjectNotFoundException)
                {
                    bad.Add((i, "missing"));
                }
            }

            issues.AddRange(bad.Select(b => new ReplicaIssue(name, b.Replica, b.Why)));
            if (good is null)
            {
                if (bad.Count > 0) lost.Add(name);
            }
            else if (bad.Count > 0)
            {
                await HealAsync(name, good, bad, cancellationToken).ConfigureAwait(false);
                healed += bad.Count;
            }

            progress?.Report(new ScrubProgress(++checkedCount, names.Count));
        }

        return new ScrubReport(names.Count, issues, healed, lost, listings.Select((l, i) => (l, i)).Where(x => x.l is null).Select(x => x.i).ToList());
    }

    /// <summary>Rewrites each bad copy from <paramref name="good"/>; returns how many could not be rewritten (they are journaled).</summary>
    private async Task<int> HealAsync(string name, byte[] good, List<(int Replica, string Why)> bad, CancellationToken cancellationToken)
    {
        var failed = 0;
        foreach (var (replica, why) in bad)
        {
            try
            {
                if (why != "missing")
                    await replicas[replica].DeleteAsync(name, cancellationToken).ConfigureAwait(false);
                await replicas[replica].PutAsync(name, good, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException e)
            {
                failed++;
                await JournalAsync(async () =>
                {
                    await journal.RecordAsync(name, replica, why, cancellationToken).ConfigureAwait(false);
                    await journal.RecordFailedRepairAsync(name, replica, e.Message, cancellationToken).ConfigureAwait(false);
                }, name).ConfigureAwait(false);
                continue;
            }

            await JournalAsync(() => journal.RemoveAsync(name, replica, cancellationToken), name).ConfigureAwait(false);
        }

        return failed;
    }

    /// <summary>
    /// A journal that cannot be written (its database down) fails the operation as transient: a copy missed without a
    /// record would wait for the next scrub, so the caller retries instead.
    /// </summary>
    private static async Task JournalAsync(Func<Task> write, string name)
    {
        try
        {
            await write().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (OperationCanceledException or StoreException))
        {
            throw new StoreException($"The repair journal could not record '{name}': {e.Message}", isTransient: true, e);
        }
    }

    private async Task<T> FirstAvailable<T>(Func<IObjectStore, Task<T>> read, string name, bool nullMeansMissing = false)
    {
        StoreException? last = null;
        foreach (var replica in replicas)
        {
            try
            {
                var result = await read(replica).ConfigureAwait(false);
                if (nullMeansMissing && result is null)
                    continue;
                return result;
            }
            catch (StoreException e) when (e.IsTransient || e is ObjectNotFoundException)
            {
                last = e;
            }
        }

        if (nullMeansMissing && last is null or ObjectNotFoundException)
            return default!;
        throw last ?? new ObjectNotFoundException(name);
    }

    private Task FirstAvailable(Func<IObjectStore, Task> read, string name) =>
        FirstAvailable(async r =>
        {
            await read(r).ConfigureAwait(false);
            return true;
        }, name);

    private static async Task<StoreException?> Attempt(Func<Task> call)
    {
        try
        {
            await call().ConfigureAwait(false);
            return null;
        }
        catch (StoreException e)
        {
            return e;
        }
    }

    private byte[]? Cached(string name)
    {
        lock (cacheLock)
        {
            for (var node = verified.First; node is not null; node = node.Next)
            {
                if (node.Value.Name != name) continue;
                verified.Remove(node);
                verified.AddFirst(node);
                return node.Value.Data;
            }
            return null;
        }
    }

    private byte[] Remember(string name, byte[] data)
    {
        lock (cacheLock)
        {
            verified.AddFirst((name, data));
            while (verified.Count > CachedObjects) verified.RemoveLast();
        }
        return data;
    }

    private void Forget(string name)
    {
        lock (cacheLock)
        {
            for (var node = verified.First; node is not null; node = node.Next)
            {
                if (node.Value.Name == name) { verified.Remove(node); return; }
            }
        }
    }
}

/// <summary>A replica's copy of an object that is missing or damaged (replica numbers start at 0).</summary>
public sealed record ReplicaIssue(string Name, int Replica, string Problem);

/// <summary>Scrub progress: objects compared so far of the total.</summary>
public sealed record ScrubProgress(int Checked, int Total);

/// <summary>What a scrub found and did.</summary>
/// <param name="Objects">Distinct objects across all replicas.</param>
/// <param name="Issues">Every missing or damaged copy found.</param>
/// <param name="Healed">Copies rewritten from a good copy.</param>
/// <param name="Lost">Objects with no good copy on any reachable replica.</param>
/// <param name="UnreachableReplicas">Replicas that could not be listed (not compared).</param>
public sealed record ScrubReport(int Objects, IReadOnlyList<ReplicaIssue> Issues, int Healed, IReadOnlyList<string> Lost, IReadOnlyList<int> UnreachableReplicas)
{
    /// <summary>True when every copy matched and every replica was reachable.</summary>
    public bool Clean => Issues.Count == 0 && UnreachableReplicas.Count == 0;
}
