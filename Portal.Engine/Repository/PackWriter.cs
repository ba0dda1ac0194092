using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Portal.Engine.Crypto;

namespace Portal.Engine.Repository;

/// <summary>
/// Collects sealed blobs into packs of about <see cref="RepoConfig.PackTarget"/> bytes and stores each full
/// pack (one upload at a time while the next pack fills; callers wait, which bounds memory to two packs). Thread-safe. A blob becomes
/// visible in the <see cref="MasterIndex"/> only once its pack is stored; <see cref="TakeWritten"/>
/// hands the stored packs to the caller, which writes them into an index object.
/// </summary>
internal sealed class PackWriter(Repo repo, MasterIndex index)
{
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _uploads = new(1);
    private readonly ConcurrentBag<byte[]> _freeBuffers = [];
    private readonly List<IndexPack> _written = [];
    private readonly int _target = repo.Config.PackTarget;
    private PackBuffer? _current;
    private long _bytesWritten, _packsWritten, _blobsWritten;

    /// <summary>Called after each stored pack (the backup refreshes its lock there).</summary>
    public Func<CancellationToken, Task>? AfterPack { get; set; }

    public long BytesWritten => Interlocked.Read(ref _bytesWritten);
    public long PacksWritten => Interlocked.Read(ref _packsWritten);
    public long BlobsAdded => Interlocked.Read(ref _blobsWritten);

    /// <summary>Copies the sealed blob into the current pack; the caller keeps ownership of the memory.</summary>
    public async Task AddAsync(BlobId id, byte type, ReadOnlyMemory<byte> sealedBytes, CancellationToken ct)
    {
        PackBuffer? full = null;
        lock (_lock)
        {
            _current ??= new PackBuffer(_freeBuffers.TryTake(out var b) ? b : new byte[_target + 2 * 1024 * 1024]);
            _current.Append(id, type, sealedBytes.Span);
            if (_current.Length >= _target)
            {
                full = _current;
                _current = null;
            }
        }
        if (full is not null) await UploadAsync(full, ct).ConfigureAwait(false);
    }

    /// <summary>Stores the partly filled pack, if any.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        PackBuffer? last;
        lock (_lock)
        {
            last = _current;
            _current = null;
        }
        if (last is { Entries.Count: > 0 }) await UploadAsync(last, ct).ConfigureAwait(false);
        // Wait for uploads started by other callers.
        await _uploads.WaitAsync(ct).ConfigureAwait(false);
        _uploads.Release();
    }

    /// <summary>The packs stored since the last call, as an index object to write.</summary>
    public IndexFile TakeWritten()
    {
        lock (_lock)
        {
            var file = new IndexFile { Packs = [.. _written] };
            _written.Clear();
            return file;
        }
    }

    private async Task UploadAsync(PackBuffer pack, CancellationToken ct)
    {
        await _uploads.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var header = PackFormat.SealHeader(repo.Key, pack.Entries);
            pack.AppendRaw(header);
            Span<byte> len = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)header.Length);
            pack.AppendRaw(len);
            var data = pack.Buffer.AsMemory(0, pack.Length);
            var packId = new BlobId(SHA256.HashData(data.Span));
            await repo.Store.PutAsync(Repo.PackName(packId), data, ct).ConfigureAwait(false);
            index.AddPack(packId, pack.Entries);
            lock (_lock)
            {
                _written.Add(new IndexPack
                {
                    Id = packId.ToHex(),
                    Blobs = pack.Entries.Select(e => new IndexBlob { Id = e.Id.ToHex(), Type = e.Type, Offset = e.Offset, Length = e.Length }).ToList(),
                });
            }
            Interlocked.Add(ref _bytesWritten, pack.Length);
            Interlocked.Increment(ref _packsWritten);
            Interlocked.Add(ref _blobsWritten, pack.Entries.Count);
        }
        finally
        {
            _freeBuffers.Add(pack.Buffer);
            _uploads.Release();
        }
        if (AfterPack is { } hook) await hook(ct).ConfigureAwait(false);
    }

    private sealed class PackBuffer(byte[] buffer)
    {
        public byte[] Buffer { get; private set; } = buffer;
        public int Length { get; private set; }
        public List<(BlobId Id, byte Type, uint Offset, uint Length)> Entries { get; } = [];

        public void Append(BlobId id, byte type, ReadOnlySpan<byte> sealedBytes)
        {
            Entries.Add((id, type, (uint)Length, (uint)sealedBytes.Length));
            AppendRaw(sealedBytes);
        }

        public void AppendRaw(ReadOnlySpan<byte> bytes)
        {
            if (Length + bytes.Length > Buffer.Length)
            {
                var bigger = new byte[Math.Max(Buffer.Length * 2, Length + bytes.Length)];
                Buffer.AsSpan(0, Length).CopyTo(bigger);
                Buffer = bigger;
            }
            bytes.CopyTo(Buffer.AsSpan(Length));
            Length += bytes.Length;
        }
    }
}
