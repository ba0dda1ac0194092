using System.Threading.Channels;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// The back half of a backup: readers cut files into chunks and post them here; workers (one per core) compute
/// each chunk's keyed id, keep it in the file's chunk list at the chunk's place, and compress, seal and pack the
/// chunks the repository does not have yet. Hashing on the workers rather than on the reader lets one large file
/// (a disk image, a database dump) use every core. Memory is bounded by the channel (<see cref="Capacity"/>
/// chunks of at most the chunker's maximum) and one chunk per worker.
/// </summary>
internal sealed class ChunkPipeline
{
    private const int Capacity = 8;
    private readonly Repo _repo;
    private readonly MasterIndex _index;
    private readonly PackWriter _packs;
    private readonly Channel<PendingChunk> _channel = Channel.CreateBounded<PendingChunk>(new BoundedChannelOptions(Capacity) { SingleReader = false });
    private readonly CancellationTokenSource _cts;
    private readonly CancellationToken _operation;
    private readonly Task[] _workers;

    private readonly record struct PendingChunk(ChunkList File, int Seq, byte[] Buffer, int Length);

    private ChunkPipeline(Repo repo, MasterIndex index, PackWriter packs, CancellationToken ct)
    {
        _repo = repo;
        _index = index;
        _packs = packs;
        _operation = ct;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _workers = Enumerable.Range(0, Math.Clamp(Environment.ProcessorCount, 2, 8)).Select(_ => Task.Run(WorkAsync, CancellationToken.None)).ToArray();
    }

    /// <summary>
    /// Runs <paramref name="produce"/> (the readers, which post chunks with the token they are given: it is cancelled
    /// when the caller cancels or a worker fails), then waits until every posted chunk is stored; then every
    /// <see cref="ChunkList"/> is complete. A worker's failure (a store error) wins over the cancellation it caused.
    /// </summary>
    public static async Task RunAsync(Repo repo, MasterIndex index, PackWriter packs, Func<ChunkPipeline, CancellationToken, Task> produce, CancellationToken ct)
    {
        var pipeline = new ChunkPipeline(repo, index, packs, ct);
        Exception? failure = null;
        try
        {
            await produce(pipeline, pipeline._cts.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        await pipeline.CompleteAsync(abandon: failure is not null).ConfigureAwait(false);
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>
    /// Copies <paramref name="chunk"/> (valid only until the reader's next chunk) and queues it as the next chunk of
    /// <paramref name="file"/>; waits while the workers are behind.
    /// </summary>
    public ValueTask PostAsync(ChunkList file, ReadOnlySpan<byte> chunk)
    {
        var buffer = PooledBuffer.Pool.Rent(chunk.Length);
        chunk.CopyTo(buffer);
        var seq = file.Reserve(chunk.Length);
        var job = new PendingChunk(file, seq, buffer, chunk.Length);
        if (_channel.Writer.TryWrite(job)) return ValueTask.CompletedTask;
        return WaitAndWriteAsync(job);
    }

    private async ValueTask WaitAndWriteAsync(PendingChunk job)
    {
        try
        {
            await _channel.Writer.WriteAsync(job, _cts.Token).ConfigureAwait(false); // throws once the workers stopped
        }
        catch
        {
            PooledBuffer.Pool.Return(job.Buffer);
            throw;
        }
    }

    /// <summary>Waits for the workers; throws a worker's failure. With <paramref name="abandon"/> (the readers failed) queued chunks are dropped.</summary>
    private async Task CompleteAsync(bool abandon)
    {
        if (abandon) await _cts.CancelAsync().ConfigureAwait(false);
        _channel.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_workers).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (abandon)
        {
        }
        finally
        {
            while (_channel.Reader.TryRead(out var left)) PooledBuffer.Pool.Return(left.Buffer);
            _cts.Dispose();
        }
    }

    private async Task WorkAsync()
    {
        try
        {
            await foreach (var job in _channel.Reader.ReadAllAsync(_cts.Token).ConfigureAwait(false))
            {
                try
                {
                    var plain = job.Buffer.AsSpan(0, job.Length);
                    var id = _repo.Key.Id(plain);
                    job.File.Set(job.Seq, id);
                    if (!_index.TryReserve(id)) continue;
                    using var sealedBytes = BlobCodec.EncodePooled(_repo.Key, plain, Repo.BlobAad(Repo.DataBlob, id));
                    // The operation's token, not the pipeline's: a full pack is stored in the background and may
                    // still be stored after the pipeline ended (the pack writer's flush waits for it).
                    await _packs.AddAsync(id, Repo.DataBlob, sealedBytes.Memory, _operation).ConfigureAwait(false);
                }
                finally
                {
                    PooledBuffer.Pool.Return(job.Buffer);
                }
            }
        }
        catch
        {
            await _cts.CancelAsync().ConfigureAwait(false); // the readers and the other workers stop
            throw;
        }
    }
}

/// <summary>A file's chunk ids in file order, filled in by the pipeline's workers in any order.</summary>
internal sealed class ChunkList
{
    private readonly Lock _lock = new();
    private BlobId[] _ids = new BlobId[4];
    private int _count, _pending;
    private bool _sealed;
    private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Bytes posted so far.</summary>
    public long Size { get; private set; }

    /// <summary>Claims the next place (called by the file's one reader).</summary>
    public int Reserve(int length)
    {
        lock (_lock)
        {
            if (_count == _ids.Length) Array.Resize(ref _ids, _count * 2);
            Size += length;
            _pending++;
            return _count++;
        }
    }

    public void Set(int seq, BlobId id)
    {
        lock (_lock)
        {
            _ids[seq] = id;
            if (--_pending == 0 && _sealed) _complete.TrySetResult();
        }
    }

    /// <summary>
    /// Called by the file's reader after its last chunk: the returned task completes once every posted chunk has its
    /// id (a folder-by-folder backup writes the file's tree node then, without waiting for the whole pipeline). If
    /// the pipeline fails it never completes: wait on it with the pipeline's token.
    /// </summary>
    public Task Seal()
    {
        lock (_lock)
        {
            _sealed = true;
            if (_pending == 0) _complete.TrySetResult();
        }
        return _complete.Task;
    }

    /// <summary>The ids as stored in a tree; call after <see cref="ChunkPipeline.RunAsync"/> or once <see cref="Seal"/>'s task completed.</summary>
    public List<string> ToContent()
    {
        lock (_lock)
        {
            var content = new List<string>(_count);
            for (var i = 0; i < _count; i++) content.Add(_ids[i].ToHex());
            return content;
        }
    }
}
