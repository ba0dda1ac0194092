using System.Security.Cryptography;
using System.Text.Json;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Storage;

namespace Portal.Engine.Repository;

/// <summary>Where a blob is stored: pack number (into <see cref="MasterIndex.Packs"/>), offset, sealed length, type.</summary>
internal readonly record struct BlobLocation(int Pack, uint Offset, uint Length, byte Type);

/// <summary>
/// All index objects merged in memory: blob id → every known location. Thread-safe. <see cref="TryReserve"/> lets
/// concurrent backup workers agree on who stores a new blob, so each is written once. A blob stored twice (two
/// backups at once, or an index object from before a prune that reappeared) keeps each location: a read tries them
/// in turn, so a missing or damaged pack does not fail it while a good copy exists. The first location read stays
/// the primary.
/// <para>
/// Repositories of tens of millions of chunks (issue 24): what is loaded lives in a <see cref="BlobTable"/>, sorted
/// fixed-size entries of 45 bytes plus 1-2 bytes of directory a chunk (the dictionary before cost 72.6 bytes a
/// chunk, and twice that while it grew). Locations added afterwards (the packs a backup writes, adopted orphans) go
/// to small dictionaries first and are merged into a new table when they reach a sixteenth of it, so a first backup
/// of millions of chunks stays near the table's size too. A reservation ends once its blob is indexed.
/// </para>
/// </summary>
internal sealed class MasterIndex
{
    private readonly Lock _lock = new();
    // Pack ids by number: replaced by a larger copy when full, so lock-free readers always see a complete array.
    private BlobId[] _packs = new BlobId[64];
    private int _packCount;
    private readonly Dictionary<BlobId, int> _packNumbers = [];
    private BlobTable _table = BlobTable.Empty;
    // Added since the table was built: the primary location of ids the table does not hold, and every further
    // location of any id (in the table or here) in the order added.
    private readonly Dictionary<BlobId, BlobLocation> _blobs = [];
    private readonly Dictionary<BlobId, List<BlobLocation>> _otherLocations = [];
    private int _added;
    // _blobs.Count, readable without the lock: lookups that miss the table skip the lock when nothing was added.
    private volatile int _recent;
    private readonly HashSet<BlobId> _reserved = [];

    public List<string> IndexNames { get; } = [];

    /// <summary>Distinct blobs indexed.</summary>
    public int BlobCount { get { lock (_lock) return _table.DistinctCount + _blobs.Count; } }

    /// <summary>The compact table as it is now (immutable), for the scale benchmark.</summary>
    internal BlobTable Table { get { lock (_lock) return _table; } }

    /// <summary>Bytes held by the compact table (the bulk of a large index), for the scale benchmark.</summary>
    public long TableBytes { get { lock (_lock) return _table.HeldBytes; } }

    public IReadOnlyList<BlobId> Packs { get { lock (_lock) return _packs.Take(_packCount).ToList(); } }

    /// <summary>
    /// Loads every index object. A damaged one is skipped: its packs then look unindexed, and the next backup
    /// (or prune, after the grace period) indexes them again from their own headers.
    /// </summary>
    public static async Task<MasterIndex> LoadAsync(Repo repo, CancellationToken ct)
    {
        var index = new MasterIndex();
        var names = await repo.ListNamesAsync(Repo.IndexPrefix, ct).ConfigureAwait(false);
        index.IndexNames.AddRange(names);
        // Reading, decrypting and parsing are independent per index object: a few run ahead on every core (a
        // no-change backup spent a sixth of its time here), and each is turned into compact entries in name order
        // as soon as its turn comes, so at most a window of parsed objects exists at once besides the entries.
        // Packs are numbered in name order whatever order the loads finish in.
        var window = Math.Max(2, Environment.ProcessorCount * 2);
        var pending = new Queue<Task<List<IndexedPack>?>>();
        var next = 0;
        Task<List<IndexedPack>?> Start(int i) => Task.Run(async () =>
        {
            try { return await repo.LoadIndexAsync(names[i], ct).ConfigureAwait(false); }
            catch (DamagedObjectException) { return null; }
        }, ct);
        while (next < names.Count && pending.Count < window) pending.Enqueue(Start(next++));
        var builder = index.StartBuild();
        try
        {
            while (pending.Count > 0)
            {
                var file = await pending.Dequeue().ConfigureAwait(false);
                if (next < names.Count) pending.Enqueue(Start(next++));
                if (file is not null) builder.Add(file);
            }
        }
        catch
        {
            // Let the loads still running end before the exception leaves (they observe the same token).
            try { await Task.WhenAll(pending).ConfigureAwait(false); } catch (Exception) { }
            throw;
        }
        builder.Finish();
        return index;
    }

    /// <summary>Fills an empty index from whole index objects at once (one table build at the end).</summary>
    public Builder StartBuild() => new(this);

    /// <summary>Turns parsed index objects into compact entries as they come, then builds the table once.</summary>
    internal sealed class Builder(MasterIndex index)
    {
        private readonly List<(IndexEntry[], int)> _segments = [];
        private long _total;

        public void Add(IReadOnlyList<IndexedPack> file)
        {
            var entries = new IndexEntry[file.Sum(p => p.Blobs.Count)];
            var n = 0;
            foreach (var pack in file)
            {
                var number = index.PackNumber(pack.Id);
                foreach (var (id, type, offset, length) in pack.Blobs)
                    entries[n++] = new IndexEntry { Id = id, Pack = number, Offset = offset, Length = length, Type = type };
            }
            _segments.Add((entries, n));
            _total += n;
        }

        public void Finish()
        {
            lock (index._lock)
            {
                if (index._table.Count > 0 || index._added > 0) throw new InvalidOperationException("A build fills an empty index only.");
                Volatile.Write(ref index._table, BlobTable.Build(_segments, _total));
            }
            _segments.Clear();
        }
    }

    private int PackNumber(BlobId pack)
    {
        lock (_lock)
        {
            if (!_packNumbers.TryGetValue(pack, out var n))
            {
                n = _packCount;
                if (n == _packs.Length)
                {
                    var bigger = new BlobId[n * 2];
                    _packs.CopyTo(bigger, 0);
                    bigger[n] = pack;
                    Volatile.Write(ref _packs, bigger);
                }
                else _packs[n] = pack;
                _packCount = n + 1;
                _packNumbers[pack] = n;
            }
            return n;
        }
    }

    public void Add(IEnumerable<IndexedPack> packs)
    {
        foreach (var p in packs) AddPack(p.Id, p.Blobs);
    }

    public void AddPack(BlobId pack, IEnumerable<(BlobId Id, byte Type, uint Offset, uint Length)> blobs)
    {
        lock (_lock)
        {
            var n = PackNumber(pack);
            foreach (var b in blobs)
            {
                var location = new BlobLocation(n, b.Offset, b.Length, b.Type);
                _reserved.Remove(b.Id);
                var inTable = _table.Find(b.Id) >= 0;
                if (inTable)
                {
                    if (_table.HasLocation(b.Id, Entry(b.Id, location))) continue;
                }
                else if (_blobs.TryAdd(b.Id, location))
                {
                    _added++;
                    _recent = _blobs.Count;
                    continue;
                }
                else if (_blobs[b.Id] == location) continue;
                if (!_otherLocations.TryGetValue(b.Id, out var others)) _otherLocations[b.Id] = others = [];
                if (others.Contains(location)) continue;
                others.Add(location);
                _added++;
            }
            if (_added >= Math.Max(1 << 16, _table.Count / 16)) CompactLocked();
        }
    }

    /// <summary>Merges the locations added since the table was built into a new table.</summary>
    public void Compact()
    {
        lock (_lock) CompactLocked();
    }

    private void CompactLocked()
    {
        if (_added == 0) return;
        var recent = new IndexEntry[_added];
        var n = 0;
        foreach (var (id, location) in _blobs) recent[n++] = Entry(id, location);
        foreach (var (id, others) in _otherLocations)
            foreach (var location in others) recent[n++] = Entry(id, location);
        // The table's own locations come first, and each id's recent primary before its other copies: the
        // table sorts stably, so the order of an id's locations is kept.
        // The new table is published before the added locations are dropped (see TableLookup).
        Volatile.Write(ref _table, BlobTable.Build([_table.AsSegment, (recent, n)], (long)_table.Count + n));
        _recent = 0;
        _blobs.Clear();
        _otherLocations.Clear();
        _blobs.TrimExcess();
        _otherLocations.TrimExcess();
        _added = 0;
    }

    private static IndexEntry Entry(BlobId id, BlobLocation l) => new() { Id = id, Pack = l.Pack, Offset = l.Offset, Length = l.Length, Type = l.Type };

    /// <summary>Every known location of <paramref name="id"/> with its pack, the primary first (empty when not indexed).</summary>
    public List<(BlobId Pack, BlobLocation Location)> Locations(BlobId id)
    {
        lock (_lock)
        {
            var all = new List<(BlobId, BlobLocation)>();
            for (var i = _table.Find(id); i >= 0 && i < _table.Count && _table[i].Id == id; i++)
                all.Add((_packs[_table[i].Pack], _table[i].Location));
            if (_blobs.TryGetValue(id, out var first)) all.Add((_packs[first.Pack], first));
            if (_otherLocations.TryGetValue(id, out var others)) all.AddRange(others.Select(l => (_packs[l.Pack], l)));
            return all;
        }
    }

    /// <summary>How many blobs are known in more than one place.</summary>
    public int BlobsWithCopies
    {
        get
        {
            lock (_lock)
            {
                var ids = new HashSet<BlobId>(_otherLocations.Keys);
                BlobId previous = default;
                var first = true;
                foreach (var e in _table.All())
                {
                    if (!first && e.Id == previous) ids.Add(e.Id);
                    previous = e.Id;
                    first = false;
                }
                return ids.Count;
            }
        }
    }

    public bool HasPack(BlobId pack) { lock (_lock) return _packNumbers.ContainsKey(pack); }

    public bool Contains(BlobId id)
    {
        var found = TableLookup(id, out _);
        if (found is not null) return found.Value;
        lock (_lock) return _table.Find(id) >= 0 || _blobs.ContainsKey(id);
    }

    /// <summary>True if the caller must store <paramref name="id"/>: it is neither indexed nor claimed by another worker.</summary>
    public bool TryReserve(BlobId id)
    {
        if (TableLookup(id, out _) == true) return false;
        lock (_lock) return _table.Find(id) < 0 && !_blobs.ContainsKey(id) && _reserved.Add(id);
    }

    public bool TryGet(BlobId id, out BlobLocation location, out BlobId pack)
    {
        var found = TableLookup(id, out location);
        if (found is not null)
        {
            pack = found.Value ? Volatile.Read(ref _packs)[location.Pack] : default;
            return found.Value;
        }
        lock (_lock)
        {
            var i = _table.Find(id);
            if (i >= 0)
            {
                location = _table[i].Location;
                pack = _packs[location.Pack];
                return true;
            }
            if (_blobs.TryGetValue(id, out location))
            {
                pack = _packs[location.Pack];
                return true;
            }
            pack = default;
            return false;
        }
    }

    /// <summary>
    /// The lock-free part of a lookup (most of them: every hit in the table, and every miss while nothing was added):
    /// true or false when that settles it, null when the locations added since the table was built must be asked
    /// under the lock. A table never changes once published; a compaction publishes the new table before it drops
    /// the added locations and clears <see cref="_recent"/>, so a miss that then sees nothing added checks that the
    /// table it searched is still the current one.
    /// </summary>
    private bool? TableLookup(BlobId id, out BlobLocation location)
    {
        var table = Volatile.Read(ref _table);
        var i = table.Find(id);
        if (i >= 0)
        {
            location = table[i].Location;
            return true;
        }
        location = default;
        if (_recent == 0 && ReferenceEquals(Volatile.Read(ref _table), table)) return false;
        return null;
    }

    /// <summary>Every location of every blob with its pack (a blob stored twice appears twice), for check and prune.</summary>
    public List<(BlobId Id, BlobId Pack, BlobLocation Location)> Snapshot()
    {
        lock (_lock)
            return _table.All().Select(e => (e.Id, _packs[e.Pack], e.Location))
                .Concat(_blobs.Select(kv => (kv.Key, _packs[kv.Value.Pack], kv.Value)))
                .Concat(_otherLocations.SelectMany(kv => kv.Value.Select(l => (kv.Key, _packs[l.Pack], l)))).ToList();
    }

    /// <summary>Reads one blob, decrypts, decompresses and verifies its keyed hash. Damage names the pack.</summary>
    public async Task<byte[]> ReadBlobAsync(Repo repo, BlobId id, CancellationToken ct)
    {
        var pooled = await ReadBlobPooledAsync(repo, id, ct).ConfigureAwait(false);
        return pooled.ToExactArray(); // a large tree is handed over, not copied
    }

    /// <summary>
    /// As <see cref="ReadBlobAsync"/>, into a rented buffer the caller disposes. With <paramref name="verifyId"/> false
    /// the blob is still authenticated (AES-GCM, whose associated data binds it to <paramref name="id"/>) but its
    /// keyed hash is not recomputed: only for a caller that verifies the plaintext another way (a restore checks each
    /// file's fingerprint).
    /// </summary>
    public async Task<PooledBuffer> ReadBlobPooledAsync(Repo repo, BlobId id, CancellationToken ct, bool verifyId = true)
    {
        if (!TryGet(id, out var loc, out var pack))
            throw new RepositoryException($"Blob {id.Short} is referenced but not in any index (run check).");
        DamagedObjectException first;
        try
        {
            return await ReadAtAsync(repo, id, pack, loc, verifyId, ct).ConfigureAwait(false);
        }
        catch (DamagedObjectException e) when (HasOtherLocations(id))
        {
            first = e;
        }
        // The primary copy is missing or damaged: try every other known copy before giving up (rare, so the common
        // path above does not pay for the list).
        foreach (var (otherPack, otherLoc) in Locations(id).Skip(1))
        {
            try { return await ReadAtAsync(repo, id, otherPack, otherLoc, verifyId, ct).ConfigureAwait(false); }
            catch (DamagedObjectException) { }
        }
        throw first;
    }

    private bool HasOtherLocations(BlobId id)
    {
        lock (_lock)
        {
            if (_otherLocations.ContainsKey(id)) return true;
            var i = _table.Find(id);
            return i >= 0 && i + 1 < _table.Count && _table[i + 1].Id == id;
        }
    }

    private static async Task<PooledBuffer> ReadAtAsync(Repo repo, BlobId id, BlobId pack, BlobLocation loc, bool verifyId, CancellationToken ct)
    {
        var packName = Repo.PackName(pack);
        using var sealedBytes = PooledBuffer.Rent((int)loc.Length);
        try
        {
            await repo.Store.ReadRangeAsync(packName, loc.Offset, sealedBytes.Array.AsMemory(0, sealedBytes.Length), ct).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException e) { throw new DamagedObjectException(packName, "the pack is missing.", e); }
        catch (ObjectTruncatedException e) { throw new DamagedObjectException(packName, "the pack is truncated.", e); }
        catch (ObjectCorruptException e) { throw new DamagedObjectException(packName, "the pack is damaged.", e); }
        PooledBuffer plain;
        try
        {
            plain = BlobCodec.DecodePooled(repo.Key, sealedBytes.Span, Repo.BlobAad(loc.Type, id));
        }
        catch (Exception e) when (e is CryptographicException or InvalidDataException)
        {
            throw new DamagedObjectException(packName, $"blob {id.Short} at offset {loc.Offset} fails authentication.", e);
        }
        if (verifyId && repo.Key.Id(plain.Span) != id)
        {
            plain.Dispose();
            throw new DamagedObjectException(packName, $"blob {id.Short} does not match its id.");
        }
        return plain;
    }

    public async Task<Tree> LoadTreeAsync(Repo repo, BlobId id, CancellationToken ct)
    {
        var plain = await ReadBlobAsync(repo, id, ct).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(plain, RepoJson.Default.Tree) ?? throw new InvalidDataException("empty tree");
        }
        catch (JsonException e)
        {
            throw new RepositoryException($"Tree {id.Short} cannot be parsed.", e);
        }
    }
}
