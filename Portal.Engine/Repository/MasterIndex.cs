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
/// the primary (one dictionary, as before); the rare others live in a side table, so lookups cost nothing more.
/// </summary>
internal sealed class MasterIndex
{
    private readonly Lock _lock = new();
    private readonly List<BlobId> _packs = [];
    private readonly Dictionary<BlobId, int> _packNumbers = [];
    private readonly Dictionary<BlobId, BlobLocation> _blobs = [];
    private readonly Dictionary<BlobId, List<BlobLocation>> _otherLocations = [];
    private readonly HashSet<BlobId> _reserved = [];

    public List<string> IndexNames { get; } = [];

    public int BlobCount { get { lock (_lock) return _blobs.Count; } }

    public IReadOnlyList<BlobId> Packs { get { lock (_lock) return _packs.ToList(); } }

    /// <summary>
    /// Loads every index object. A damaged one is skipped: its packs then look unindexed, and the next backup
    /// (or prune, after the grace period) indexes them again from their own headers.
    /// </summary>
    public static async Task<MasterIndex> LoadAsync(Repo repo, CancellationToken ct)
    {
        var index = new MasterIndex();
        var names = await repo.ListNamesAsync(Repo.IndexPrefix, ct).ConfigureAwait(false);
        index.IndexNames.AddRange(names);
        // Reading, decrypting and parsing are independent per index object: spread them over the cores
        // (a no-change backup spent a sixth of its time here). Packs are numbered in name order whatever
        // order the loads finish in.
        var files = new List<IndexedPack>?[names.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct },
            async (i, token) =>
            {
                try { files[i] = await repo.LoadIndexAsync(names[i], token).ConfigureAwait(false); }
                catch (DamagedObjectException) { }
            }).ConfigureAwait(false);
        foreach (var file in files)
            if (file is not null) index.Add(file);
        return index;
    }

    public void Add(IEnumerable<IndexedPack> packs)
    {
        foreach (var p in packs) AddPack(p.Id, p.Blobs);
    }

    public void AddPack(BlobId pack, IEnumerable<(BlobId Id, byte Type, uint Offset, uint Length)> blobs)
    {
        lock (_lock)
        {
            if (!_packNumbers.TryGetValue(pack, out var n))
            {
                n = _packs.Count;
                _packs.Add(pack);
                _packNumbers[pack] = n;
            }
            foreach (var b in blobs)
            {
                var location = new BlobLocation(n, b.Offset, b.Length, b.Type);
                if (_blobs.TryAdd(b.Id, location) || _blobs[b.Id] == location) continue;
                if (!_otherLocations.TryGetValue(b.Id, out var others)) _otherLocations[b.Id] = others = [];
                if (!others.Contains(location)) others.Add(location);
            }
        }
    }

    /// <summary>Every known location of <paramref name="id"/> with its pack, the primary first (empty when not indexed).</summary>
    public List<(BlobId Pack, BlobLocation Location)> Locations(BlobId id)
    {
        lock (_lock)
        {
            if (!_blobs.TryGetValue(id, out var first)) return [];
            var all = new List<(BlobId, BlobLocation)> { (_packs[first.Pack], first) };
            if (_otherLocations.TryGetValue(id, out var others)) all.AddRange(others.Select(l => (_packs[l.Pack], l)));
            return all;
        }
    }

    /// <summary>How many blobs are known in more than one place.</summary>
    public int BlobsWithCopies { get { lock (_lock) return _otherLocations.Count; } }

    public bool HasPack(BlobId pack) { lock (_lock) return _packNumbers.ContainsKey(pack); }

    public bool Contains(BlobId id) { lock (_lock) return _blobs.ContainsKey(id); }

    /// <summary>True if the caller must store <paramref name="id"/>: it is neither indexed nor claimed by another worker.</summary>
    public bool TryReserve(BlobId id)
    {
        lock (_lock) return !_blobs.ContainsKey(id) && _reserved.Add(id);
    }

    public bool TryGet(BlobId id, out BlobLocation location, out BlobId pack)
    {
        lock (_lock)
        {
            if (_blobs.TryGetValue(id, out location))
            {
                pack = _packs[location.Pack];
                return true;
            }
            pack = default;
            return false;
        }
    }

    /// <summary>Every location of every blob with its pack (a blob stored twice appears twice), for check and prune.</summary>
    public List<(BlobId Id, BlobId Pack, BlobLocation Location)> Snapshot()
    {
        lock (_lock)
            return _blobs.Select(kv => (kv.Key, _packs[kv.Value.Pack], kv.Value))
                .Concat(_otherLocations.SelectMany(kv => kv.Value.Select(l => (kv.Key, _packs[l.Pack], l)))).ToList();
    }

    /// <summary>Reads one blob, decrypts, decompresses and verifies its keyed hash. Damage names the pack.</summary>
    public async Task<byte[]> ReadBlobAsync(Repo repo, BlobId id, CancellationToken ct)
    {
        using var pooled = await ReadBlobPooledAsync(repo, id, ct).ConfigureAwait(false);
        return pooled.Span.ToArray();
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

    private bool HasOtherLocations(BlobId id) { lock (_lock) return _otherLocations.ContainsKey(id); }

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
