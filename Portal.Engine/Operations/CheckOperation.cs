using System.Collections.Concurrent;
using System.Security.Cryptography;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Progress;
using Portal.Engine.Repository;
using Portal.Engine.Storage;

namespace Portal.Engine.Operations;

/// <summary>
/// Check: every indexed pack exists and is long enough; every snapshot's trees load; every referenced chunk
/// is indexed. With read-data, every pack is read, its SHA-256 compared with its name and every blob
/// decrypted and verified. Each damaged object is reported once, with the snapshots and files it affects.
/// </summary>
internal sealed class CheckOperation(Repo repo)
{
    private sealed class Finding(string problem)
    {
        public string Problem { get; } = problem;
        public SortedSet<string> Snapshots { get; } = new(StringComparer.Ordinal);
        public List<string> Files { get; } = [];
    }

    private readonly ConcurrentDictionary<string, Finding> _findings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<BlobId, string> _badBlobs = new(); // blob with no good copy → object name of its problem
    private readonly ConcurrentDictionary<(BlobId Blob, string Pack), bool> _badCopies = new(); // each copy that failed
    private readonly List<string> _notes = [];
    private long _verified;
    private bool _readData;
    private HashSet<BlobId>? _readPacks; // a window's packs; null when every pack is read (or none)
    private readonly Dictionary<string, string?> _filesVerified = new(StringComparer.Ordinal); // by size, fingerprint and chunk list: a file shared by snapshots is read once
    private readonly long _fingerprintSeed = repo.Key.FingerprintSeed();

    public async Task<CheckResult> RunAsync(CheckOptions options, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        // A reader lock, so that a prune starting now backs off instead of moving data under the check (which would
        // then report it missing).
        var (repoLock, lockWarning) = await RepoLock.AcquireReaderAsync(repo, "check", ct).ConfigureAwait(false);
        if (lockWarning is not null) _notes.Add(lockWarning);
        await using (repoLock)
            return await RunLockedAsync(options, repoLock, progress, ct).ConfigureAwait(false);
    }

    private async Task<CheckResult> RunLockedAsync(CheckOptions options, RepoLock? repoLock, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        _readData = options.ReadData || options.Window is not null || options.Subset is not null;
        var snapshots = new List<StoredSnapshot>();
        foreach (var name in await repo.ListNamesAsync(Repo.SnapshotsPrefix, ct).ConfigureAwait(false))
        {
            try { snapshots.Add(new StoredSnapshot(name[Repo.SnapshotsPrefix.Length..], await repo.LoadJsonAsync(name, RepoJson.Default.Snapshot, ct).ConfigureAwait(false))); }
            catch (DamagedObjectException e) { Add(e.ObjectName, e.Message); }
        }
        var index = new MasterIndex();
        foreach (var name in await repo.ListNamesAsync(Repo.IndexPrefix, ct).ConfigureAwait(false))
        {
            try { index.Add(await repo.LoadIndexAsync(name, ct).ConfigureAwait(false)); }
            catch (DamagedObjectException e) { Add(e.ObjectName, e.Message); }
        }
        var stored = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var o in repo.Store.ListAsync(Repo.DataPrefix, ct).ConfigureAwait(false)) stored[o.Name] = o.Length;

        var blobsByPack = index.Snapshot().GroupBy(b => b.Pack).ToList();
        ReadDataPass? pass = null;
        if (!options.ReadData && options.Window is { } window)
            (_readPacks, pass) = Window(window, blobsByPack.Select(g => g.Key), stored);
        else if (!options.ReadData && options.Subset is { } subset)
            _readPacks = [.. blobsByPack.Select(g => g.Key).Where(subset.Contains)];
        long packsDone = 0;
        progress.Report(new OperationProgress(OperationPhase.Check, 0, blobsByPack.Count, 0, 0));
        await Parallel.ForEachAsync(blobsByPack, new ParallelOptions { MaxDegreeOfParallelism = _readData ? 2 : 1, CancellationToken = ct }, async (group, token) =>
        {
            await CheckPackAsync(Repo.PackName(group.Key), group.ToList(), stored, _readPacks?.Contains(group.Key) ?? _readData, token).ConfigureAwait(false);
            if (repoLock is not null && await repoLock.TryRefreshIfDueAsync(token).ConfigureAwait(false) is { } refreshFailed)
                lock (_notes) _notes.Add(refreshFailed); // a long check keeps its lock live, or says (once) that it could not
            progress.Report(new OperationProgress(OperationPhase.Check, Interlocked.Increment(ref packsDone), blobsByPack.Count, 0, 0));
        }).ConfigureAwait(false);
        ResolveCopies(index);
        var indexed = blobsByPack.Select(g => Repo.PackName(g.Key)).ToHashSet(StringComparer.Ordinal);
        foreach (var name in stored.Keys.Where(n => !indexed.Contains(n)).Order(StringComparer.Ordinal))
            _notes.Add($"{name}: not in any index (left by a stopped backup); the next backup indexes it, prune removes it if unused.");

        // Walk every tree once; only if something is wrong, walk again per snapshot so that each problem
        // names every snapshot and file it affects (shared subtrees are then visited once per snapshot).
        var shared = new HashSet<BlobId>();
        foreach (var s in snapshots)
            await WalkAsync(index, s, BlobId.Parse(s.Snapshot.Tree), "", shared, ct).ConfigureAwait(false);
        if (!_findings.IsEmpty && snapshots.Count > 1)
        {
            foreach (var f in _findings.Values)
            {
                f.Snapshots.Clear();
                f.Files.Clear();
            }
            foreach (var s in snapshots)
                await WalkAsync(index, s, BlobId.Parse(s.Snapshot.Tree), "", [], ct).ConfigureAwait(false);
        }

        // A pack problem that touches no snapshot (a stale index entry of a pruned pack, a damaged copy nobody needs)
        // loses nothing: a note, not a failure.
        foreach (var (name, finding) in _findings.Where(f => f.Key.StartsWith(Repo.DataPrefix, StringComparison.Ordinal) && f.Value.Snapshots.Count == 0).ToList())
        {
            _findings.TryRemove(name, out _);
            _notes.Add($"{name}: {finding.Problem.TrimEnd('.')}, but no snapshot needs its data: nothing is lost; `repair index` or prune tidies it.");
        }
        progress.Report(OperationProgress.Final(OperationPhase.Check, blobsByPack.Count, 0));
        return new CheckResult
        {
            Problems = _findings.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => new CheckProblem(kv.Key, kv.Value.Problem, [.. kv.Value.Snapshots], [.. kv.Value.Files])).ToList(),
            Notes = _notes, Snapshots = snapshots.Count, Packs = stored.Count, BlobsVerified = _verified, DataRead = pass,
        };
    }

    /// <summary>The packs a window reads: the indexed, stored packs after its start in name order, up to its share of the bytes.</summary>
    private static (HashSet<BlobId> Packs, ReadDataPass Pass) Window(ReadDataWindow window, IEnumerable<BlobId> indexed, Dictionary<string, long> stored)
    {
        var packs = indexed.Select(id => (Id: id, Name: Repo.PackName(id)))
            .Where(p => stored.ContainsKey(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        var total = packs.Sum(p => stored[p.Name]);
        var budget = Math.Min(window.MaxBytes, (long)Math.Ceiling(Math.Clamp(window.Share, 0, 1) * total));
        var start = window.After is null ? 0 : packs.FindIndex(p => string.CompareOrdinal(p.Name, window.After) > 0);
        if (start < 0) start = 0; // the last pass ended at the last pack (or it was pruned away): a new pass
        var read = new HashSet<BlobId>();
        long bytes = 0;
        var i = start;
        for (; i < packs.Count && (read.Count == 0 || bytes < budget); i++)
        {
            read.Add(packs[i].Id);
            bytes += stored[packs[i].Name];
        }
        var completed = i == packs.Count;
        return (read, new ReadDataPass(read.Count, bytes, packs.Count, total, completed ? null : packs[i - 1].Name, completed));
    }

    /// <summary>
    /// A blob is damaged only when every known copy failed (as restore tries each in turn). A pack whose failed blobs all
    /// have a good copy elsewhere (a stale index entry: the pack was pruned, or the blob was stored twice) loses no data:
    /// it becomes a note, with the command that tidies the index, instead of a problem.
    /// </summary>
    private void ResolveCopies(MasterIndex index)
    {
        var rescued = new Dictionary<string, int>(StringComparer.Ordinal);
        var lost = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ((id, packName), _) in _badCopies)
        {
            if (index.Locations(id).Any(l => !_badCopies.ContainsKey((id, Repo.PackName(l.Pack)))))
                rescued[packName] = rescued.GetValueOrDefault(packName) + 1;
            else
            {
                lost.Add(packName);
                _badBlobs.TryAdd(id, packName);
            }
        }
        // Each lost blob names one object; keep a finding for every pack it names, even if another pack was chosen.
        foreach (var name in _badBlobs.Values) lost.Add(name);
        foreach (var (packName, count) in rescued)
        {
            if (lost.Contains(packName) || !_findings.TryRemove(packName, out var finding)) continue;
            lock (_notes)
                _notes.Add($"{packName}: {finding.Problem.TrimEnd('.')}, but each of its {count} affected chunks has a good copy in another pack: " +
                    "nothing is lost (restore uses the good copy); `repair index` drops the stale entries, prune then removes the pack.");
        }
    }

    private Finding Add(string objectName, string problem) => _findings.GetOrAdd(objectName, _ => new Finding(problem));

    private async Task CheckPackAsync(string packName, List<(BlobId Id, BlobId Pack, BlobLocation Location)> blobs,
        Dictionary<string, long> stored, bool readData, CancellationToken ct)
    {
        if (!stored.TryGetValue(packName, out var length))
        {
            Add(packName, "the pack is missing.");
            foreach (var b in blobs) _badCopies[(b.Id, packName)] = true;
            return;
        }
        var needed = blobs.Max(b => (long)b.Location.Offset + b.Location.Length) + 4;
        if (length < needed)
        {
            Add(packName, $"the pack is truncated ({length} bytes, at least {needed} expected).");
            foreach (var b in blobs.Where(b => b.Location.Offset + (long)b.Location.Length > length)) _badCopies[(b.Id, packName)] = true;
            if (!readData) return;
        }
        if (!readData) return;
        byte[] data;
        try { data = await repo.Store.GetAsync(packName, ct).ConfigureAwait(false); }
        catch (StoreException e)
        {
            Add(packName, $"the pack cannot be read: {e.Message}");
            foreach (var b in blobs) _badCopies[(b.Id, packName)] = true;
            return;
        }
        var nameMatches = Convert.ToHexStringLower(SHA256.HashData(data)) == packName[(packName.LastIndexOf('/') + 1)..];
        var bad = 0;
        foreach (var (id, _, loc) in blobs)
        {
            var ok = loc.Offset + (long)loc.Length <= data.Length;
            if (ok)
            {
                try
                {
                    using var plain = BlobCodec.DecodePooled(repo.Key, data.AsSpan((int)loc.Offset, (int)loc.Length), Repo.BlobAad(loc.Type, id));
                    ok = repo.Key.Id(plain.Span) == id;
                }
                catch (Exception e) when (e is CryptographicException or InvalidDataException) { ok = false; }
            }
            if (ok) Interlocked.Increment(ref _verified);
            else
            {
                bad++;
                _badCopies[(id, packName)] = true;
            }
        }
        if (bad > 0 || !nameMatches)
            Add(packName, $"the pack's content does not match its name; {bad} of {blobs.Count} blobs fail verification.");
    }

    private async Task WalkAsync(MasterIndex index, StoredSnapshot snap, BlobId treeId, string prefix, HashSet<BlobId> seen, CancellationToken ct)
    {
        if (!seen.Add(treeId)) return;
        var where = $"{snap.Id[..8]}:{(prefix.Length == 0 ? "/" : prefix + "/")}";
        if (_badBlobs.TryGetValue(treeId, out var badObject)) { Affect(badObject, snap, where + " (folder listing)"); return; }
        Tree tree;
        try { tree = await index.LoadTreeAsync(repo, treeId, ct).ConfigureAwait(false); }
        catch (DamagedObjectException e) { Affect(Add(e.ObjectName, e.Message), snap, where + " (folder listing)"); return; }
        catch (RepositoryException e) { Affect(Add("index", e.Message), snap, where + " (folder listing)"); return; }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in tree.Nodes)
        {
            var path = prefix.Length == 0 ? node.Name : prefix + "/" + node.Name;
            // The names restore refuses (it never writes outside its target, nor one name twice).
            if (RestorePaths.Unsafe(node.Name) is { } why)
            {
                Affect(Add($"tree {treeId.Short}", $"a folder listing holds {why}; restore refuses the entry."), snap, where + " (an entry with " + why + ")");
                continue;
            }
            if (!names.Add(node.Name))
            {
                Affect(Add($"tree {treeId.Short}", "a folder listing holds a name twice; restore refuses the second."), snap, $"{snap.Id[..8]}:{path}");
                continue;
            }
            if (node.Type == Node.Dir && node.Subtree is not null && BlobId.TryParse(node.Subtree, out var sub))
                await WalkAsync(index, snap, sub, path, seen, ct).ConfigureAwait(false);
            var contentOk = true;
            foreach (var hex in node.Content ?? [])
            {
                if (!BlobId.TryParse(hex, out var id) || !index.Contains(id))
                {
                    Affect(Add("index", "chunks are referenced by snapshots but listed in no index (their data is missing)."), snap, $"{snap.Id[..8]}:{path}");
                    contentOk = false;
                    break;
                }
                if (_badBlobs.TryGetValue(id, out var obj))
                {
                    Affect(obj, snap, $"{snap.Id[..8]}:{path}");
                    contentOk = false;
                    break;
                }
            }
            if (contentOk && _readData && node.Type == Node.File && FirstChunkRead(index, node)
                && await ContentProblemAsync(index, node, ct).ConfigureAwait(false) is { } problem)
                Affect(Add($"tree {treeId.Short}", "a file's recorded size or fingerprint disagrees with its chunks; restore refuses it."), snap, $"{snap.Id[..8]}:{path} ({problem})");
        }
    }

    /// <summary>Whether this check reads the file's data: every file with all data read, in a window those whose first chunk lies in a pack read.</summary>
    private bool FirstChunkRead(MasterIndex index, Node node) =>
        _readPacks is null || (node.Content is [var first, ..] && BlobId.TryParse(first, out var id) && index.Locations(id) is [var (pack, _), ..] && _readPacks.Contains(pack));

    /// <summary>
    /// With read-data, what restore would find wrong with a file whose chunks are all sound: their total length against
    /// the recorded size, and their content against the recorded fingerprint. Null when it would restore.
    /// </summary>
    private async Task<string?> ContentProblemAsync(MasterIndex index, Node node, CancellationToken ct)
    {
        var content = node.Content ?? [];
        var key = $"{node.Size}:{node.Fingerprint}:{string.Join(',', content)}";
        if (_filesVerified.TryGetValue(key, out var known)) return known;
        return _filesVerified[key] = await ReadContentProblemAsync(index, node, content, ct).ConfigureAwait(false);
    }

    private async Task<string?> ReadContentProblemAsync(MasterIndex index, Node node, List<string> content, CancellationToken ct)
    {
        var hash = node.Fingerprint is { Length: 32 } ? new System.IO.Hashing.XxHash128(_fingerprintSeed) : null;
        long length = 0;
        foreach (var hex in content)
        {
            try
            {
                using var plain = await index.ReadBlobPooledAsync(repo, BlobId.Parse(hex), ct, verifyId: false).ConfigureAwait(false);
                hash?.Append(plain.Span);
                length += plain.Length;
            }
            catch (RepositoryException e) { return $"a chunk cannot be read: {e.Message}"; }
        }
        if (length != node.Size) return $"{node.Size} bytes recorded, its chunks hold {length}";
        if (hash is not null && !string.Equals(Convert.ToHexStringLower(hash.GetCurrentHash()), node.Fingerprint, StringComparison.OrdinalIgnoreCase))
            return "its content does not match the fingerprint recorded at backup";
        return null;
    }

    private void Affect(string objectName, StoredSnapshot snap, string file) => Affect(_findings[objectName], snap, file);

    private static void Affect(Finding f, StoredSnapshot snap, string file)
    {
        lock (f)
        {
            f.Snapshots.Add(snap.Id);
            if (f.Files.Count < 1000) f.Files.Add(file);
        }
    }
}
