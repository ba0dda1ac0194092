using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Portal.Engine.Crypto;
using Portal.Engine.Storage;

namespace Portal.Engine.Repository;

/// <summary>
/// Collects sealed blobs into packs of about <see cref="RepoConfig.PackTarget"/> bytes and stores each full
/// pack. Thread-safe. When the store can stage objects (<see cref="IStagedPutStore"/>) blobs stream straight
/// into the open pack, so packs cost no memory; otherwise a pack is buffered and put whole (one upload at a
/// time while the next fills; callers wait, which bounds memory to two packs). A blob becomes visible in the
/// <see cref="MasterIndex"/> only once its pack is stored; <see cref="TakeWritten"/> hands the stored packs
/// to the caller, which writes them into an index object. Dispose discards a pack that was never stored.
/// </summary>
internal sealed class PackWriter(Repo repo, MasterIndex index) : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _append = new(1);
    private readonly SemaphoreSlim _uploads = new(1);
    private readonly ConcurrentBag<byte[]> _freeBuffers = [];
    private readonly List<IndexedPack> _written = [];
    private readonly int _target = repo.Config.PackTarget;
    private OpenPack? _current;
    private long _bytesWritten, _packsWritten, _blobsWritten;

    /// <summary>Called after each stored pack (the backup refreshes its lock there).</summary>
    public Func<CancellationToken, Task>? AfterPack { get; set; }

    public long BytesWritten => Interlocked.Read(ref _bytesWritten);
    public long PacksWritten => Interlocked.Read(ref _packsWritten);
    public long BlobsAdded => Interlocked.Read(ref _blobsWritten);

    /// <summary>Appends the sealed blob to the open pack; the caller keeps ownership of the memory.</summary>
    public async Task AddAsync(BlobId id, byte type, ReadOnlyMemory<byte> sealedBytes, CancellationToken ct)
    {
        OpenPack? full = null;
        await _append.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _current ??= await OpenAsync(ct).ConfigureAwait(false);
            _current.Entries.Add((id, type, (uint)_current.Length, (uint)sealedBytes.Length));
            await _current.AppendAsync(sealedBytes, ct).ConfigureAwait(false);
            if (_current.Length >= _target)
            {
                full = _current;
                _current = null;
            }
        }
        finally
        {
            _append.Release();
        }
        if (full is not null) await UploadAsync(full, ct).ConfigureAwait(false);
    }

    /// <summary>Stores the partly filled pack, if any, and waits for uploads in progress.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        OpenPack? last;
        await _append.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            last = _current;
            _current = null;
        }
        finally
        {
            _append.Release();
        }
        if (last is { Entries.Count: > 0 }) await UploadAsync(last, ct).ConfigureAwait(false);
        else if (last is not null) await last.DisposeAsync().ConfigureAwait(false);
        await _uploads.WaitAsync(ct).ConfigureAwait(false);
        _uploads.Release();
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

    /// <summary>Writes an index object for the packs stored since the last call, if any (never cancelled: it keeps what was stored).</summary>
    public async Task SaveIndexAsync()
    {
        var packs = TakeWritten();
        if (packs.Count > 0) await repo.SaveIndexAsync(packs, CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        var open = Interlocked.Exchange(ref _current, null);
        if (open is not null) await open.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<OpenPack> OpenAsync(CancellationToken ct)
    {
        if (repo.Store is IStagedPutStore { CanStage: true } staged)
            return new OpenPack(await staged.BeginPutAsync(Repo.DataPrefix, ct).ConfigureAwait(false), null, _freeBuffers);
        return new OpenPack(null, _freeBuffers.TryTake(out var b) ? b : new byte[_target + 1024 * 1024], _freeBuffers);
    }

    private async Task UploadAsync(OpenPack pack, CancellationToken ct)
    {
        await using var _ = pack;
        await _uploads.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var header = PackFormat.SealHeader(repo.Key, pack.Entries);
            await pack.AppendAsync(header, ct).ConfigureAwait(false);
            var len = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)header.Length);
            await pack.AppendAsync(len, ct).ConfigureAwait(false);
            var packId = new BlobId(pack.Hash());
            await pack.StoreAsync(repo.Store, Repo.PackName(packId), ct).ConfigureAwait(false);
            index.AddPack(packId, pack.Entries);
            lock (_lock)
            {
                _written.Add(new IndexedPack(packId, pack.Entries));
            }
            Interlocked.Add(ref _bytesWritten, pack.Length);
            Interlocked.Increment(ref _packsWritten);
            Interlocked.Add(ref _blobsWritten, pack.Entries.Count);
        }
        finally
        {
            _uploads.Release();
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
