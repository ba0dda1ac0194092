using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Portal.Engine.Crypto;
using Portal.Engine.Storage;

namespace Portal.Engine.Repository;

/// <summary>
/// Collects sealed blobs into packs of about <see cref="RepoConfig.PackTarget"/> bytes and stores each full
/// pack. Thread-safe, and concurrent callers never wait for each other: each appends to an open pack of its own
/// (taken from a pool of open packs), and a full pack is stored in the background (on a local disk: flushed,
/// renamed into place, the folder flushed) while the caller goes on. When the store can stage objects
/// (<see cref="IStagedPutStore"/>) blobs stream straight into the open pack, so packs cost no memory; otherwise
/// a pack is buffered and put whole. At most <see cref="MaxStoring"/> packs are being stored at once (callers wait
/// beyond that, which bounds memory). A blob becomes visible in the <see cref="MasterIndex"/> only once its pack
/// is stored; <see cref="TakeWritten"/> hands the stored packs to the caller, which writes them into an index
/// object. Dispose waits for packs being stored and discards packs never stored.
/// </summary>
internal sealed class PackWriter(Repo repo, MasterIndex index) : IAsyncDisposable
{
    private const int MaxStoring = 2;
    private readonly Lock _lock = new();
    private readonly ConcurrentBag<OpenPack> _idle = [];
    private readonly SemaphoreSlim _storing = new(MaxStoring);
    private readonly List<Task> _stores = [];
    private readonly ConcurrentBag<byte[]> _freeBuffers = [];
    private readonly List<IndexedPack> _written = [];
    private readonly int _target = repo.Config.PackTarget;
    private long _bytesWritten, _packsWritten, _blobsWritten;

    /// <summary>Called after each stored pack (the backup refreshes its lock there).</summary>
    public Func<CancellationToken, Task>? AfterPack { get; set; }

    public long BytesWritten => Interlocked.Read(ref _bytesWritten);
    public long PacksWritten => Interlocked.Read(ref _packsWritten);
    public long BlobsAdded => Interlocked.Read(ref _blobsWritten);

    /// <summary>Appends the sealed blob to an open pack; the caller keeps ownership of the memory.</summary>
    public async Task AddAsync(BlobId id, byte type, ReadOnlyMemory<byte> sealedBytes, CancellationToken ct)
    {
        await ThrowIfStoreFailedAsync().ConfigureAwait(false);
        var pack = _idle.TryTake(out var open) ? open : await OpenAsync(ct).ConfigureAwait(false);
        try
        {
            pack.Entries.Add((id, type, (uint)pack.Length, (uint)sealedBytes.Length));
            await pack.AppendAsync(sealedBytes, ct).ConfigureAwait(false);
        }
        catch
        {
            await pack.DisposeAsync().ConfigureAwait(false); // a pack with a failed write is never stored
            throw;
        }
        if (pack.Length < _target) _idle.Add(pack);
        else await StartStoreAsync(pack, ct).ConfigureAwait(false);
    }

    /// <summary>Stores the partly filled packs, if any, and waits until every pack is stored; throws a store's failure.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        while (_idle.TryTake(out var pack))
        {
            if (pack.Entries.Count > 0) await StartStoreAsync(pack, ct).ConfigureAwait(false);
            else await pack.DisposeAsync().ConfigureAwait(false);
        }
        await Task.WhenAll(Stores()).ConfigureAwait(false);
    }

    /// <summary>The packs stored since the last call, for an index object.</summary>
    public List<IndexedPack> TakeWritten()
    {
        lock (_lock)
        {
            var packs = _written.ToList();
            _written.Clear();
            return packs;
        }
    }

    /// <summary>
    /// Writes an index object for the packs stored since the last call, if any, after the packs being stored finish
    /// (never cancelled: on a failed or cancelled backup it keeps what was stored for the next one).
    /// </summary>
    public async Task SaveIndexAsync()
    {
        await WaitForStoresAsync().ConfigureAwait(false);
        var packs = TakeWritten();
        if (packs.Count > 0) await repo.SaveIndexAsync(packs, CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await WaitForStoresAsync().ConfigureAwait(false);
        while (_idle.TryTake(out var pack)) await pack.DisposeAsync().ConfigureAwait(false);
    }

    private Task[] Stores()
    {
        lock (_lock) return [.. _stores];
    }

    private async Task WaitForStoresAsync()
    {
        // A failed store surfaces through AddAsync or FlushAsync; here (an index after a failure, or disposal) only
        // its end matters, and the caller's own exception must not be replaced by it.
        try { await Task.WhenAll(Stores()).ConfigureAwait(false); }
        catch (Exception) { }
    }

    private async Task ThrowIfStoreFailedAsync()
    {
        foreach (var t in Stores())
            if (t.IsFaulted || t.IsCanceled) await t.ConfigureAwait(false);
    }

    private async Task StartStoreAsync(OpenPack pack, CancellationToken ct)
    {
        try
        {
            await _storing.WaitAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await pack.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var store = Task.Run(async () =>
        {
            try { await StoreAsync(pack, ct).ConfigureAwait(false); }
            finally { _storing.Release(); }
        }, CancellationToken.None);
        lock (_lock)
        {
            _stores.RemoveAll(t => t.IsCompletedSuccessfully);
            _stores.Add(store);
        }
    }

    private async Task<OpenPack> OpenAsync(CancellationToken ct)
    {
        if (repo.Store is IStagedPutStore { CanStage: true } staged)
            return new OpenPack(await staged.BeginPutAsync(Repo.DataPrefix, ct).ConfigureAwait(false), null, _freeBuffers);
        return new OpenPack(null, _freeBuffers.TryTake(out var b) ? b : new byte[_target + 1024 * 1024], _freeBuffers);
    }

    private async Task StoreAsync(OpenPack pack, CancellationToken ct)
    {
        await using (pack)
        {
            var header = PackFormat.SealHeader(repo.Key, pack.Entries);
            await pack.AppendAsync(header, ct).ConfigureAwait(false);
            var len = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)header.Length);
            await pack.AppendAsync(len, ct).ConfigureAwait(false);
            var packId = new BlobId(pack.Hash());
            await pack.StoreAsync(repo.Store, Repo.PackName(packId), ct).ConfigureAwait(false);
            index.AddPack(packId, pack.Entries);
            lock (_lock) _written.Add(new IndexedPack(packId, pack.Entries));
            Interlocked.Add(ref _bytesWritten, pack.Length);
            Interlocked.Increment(ref _packsWritten);
            Interlocked.Add(ref _blobsWritten, pack.Entries.Count);
        }
        if (AfterPack is { } hook) await hook(ct).ConfigureAwait(false);
    }

    /// <summary>A pack being filled: streamed into a staged object, or buffered in memory.</summary>
    private sealed class OpenPack(IStagedObject? staged, byte[]? buffer, ConcurrentBag<byte[]> freeBuffers) : IAsyncDisposable
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private byte[]? _buffer = buffer;

        public List<(BlobId Id, byte Type, uint Offset, uint Length)> Entries { get; } = [];
        public int Length { get; private set; }

        public async ValueTask AppendAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
        {
            _sha.AppendData(bytes.Span);
            if (staged is not null) await staged.WriteAsync(bytes, ct).ConfigureAwait(false);
            else
            {
                if (Length + bytes.Length > _buffer!.Length)
                {
                    var bigger = new byte[Math.Max(_buffer.Length * 2, Length + bytes.Length)];
                    _buffer.AsSpan(0, Length).CopyTo(bigger);
                    _buffer = bigger;
                }
                bytes.Span.CopyTo(_buffer.AsSpan(Length));
            }
            Length += bytes.Length;
        }

        public byte[] Hash() => _sha.GetHashAndReset();

        public Task StoreAsync(IObjectStore store, string name, CancellationToken ct) =>
            staged is not null ? staged.CommitAsync(name, ct) : store.PutAsync(name, _buffer.AsMemory(0, Length), ct);

        public async ValueTask DisposeAsync()
        {
            _sha.Dispose();
            if (staged is not null) await staged.DisposeAsync().ConfigureAwait(false);
            if (_buffer is not null) freeBuffers.Add(_buffer);
            _buffer = null;
        }
    }
}
