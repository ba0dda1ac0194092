using System.Runtime.CompilerServices;

namespace Portal.Engine.Storage;

/// <summary>
/// Limits the upload bandwidth of a store: every put and every staged write takes its bytes from a
/// <see cref="TokenBucket"/> before it goes on to the inner store (reads, lists and deletes are not limited). Share one
/// bucket between stores to share one limit (a region's vaults). Staged puts are forwarded when the inner store can
/// stage, with their writes paced in slices of at most 256 KiB so a large pack does not go out as one burst.
/// </summary>
public sealed class ThrottledStore(IObjectStore inner, TokenBucket bucket) : IStagedPutStore, IStreamPutStore
{
    internal const int Slice = 256 * 1024;

    /// <inheritdoc />
    public async Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await bucket.TakeAsync(data.Length, cancellationToken).ConfigureAwait(false);
        await inner.PutAsync(name, data, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default) => inner.GetAsync(name, cancellationToken);

    /// <inheritdoc />
    public Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        inner.ReadRangeAsync(name, offset, destination, cancellationToken);

    /// <inheritdoc />
    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default) => inner.StatAsync(name, cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var info in inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            yield return info;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);

    /// <inheritdoc />
    public bool CanStage => inner is IStagedPutStore { CanStage: true };

    /// <inheritdoc />
    public bool CanStageNamed => inner is IStagedPutStore { CanStageNamed: true };

    /// <inheritdoc />
    public async Task<IStagedObject> BeginNamedPutAsync(string name, CancellationToken cancellationToken = default)
    {
        if (inner is not IStagedPutStore { CanStageNamed: true } staged)
            throw new NotSupportedException("The wrapped store cannot stage objects (check CanStageNamed first).");
        return new ThrottledObject(await staged.BeginNamedPutAsync(name, cancellationToken).ConfigureAwait(false), bucket);
    }

    /// <inheritdoc />
    public bool CanPutStream => inner is IStreamPutStore { CanPutStream: true };

    /// <summary>Puts from a stream read at the bucket's pace, slice by slice (each attempt takes its bytes again: they go out again).</summary>
    public Task PutStreamAsync(string name, Func<Stream> open, long length, CancellationToken cancellationToken = default)
    {
        if (inner is not IStreamPutStore { CanPutStream: true } streams)
            throw new NotSupportedException("The wrapped store cannot put from a stream (check CanPutStream first).");
        return streams.PutStreamAsync(name, () => new PacedStream(open(), bucket), length, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IStagedObject> BeginPutAsync(string prefix, CancellationToken cancellationToken = default)
    {
        if (inner is not IStagedPutStore { CanStage: true } staged)
            throw new NotSupportedException("The wrapped store cannot stage objects (check CanStage first).");
        return new ThrottledObject(await staged.BeginPutAsync(prefix, cancellationToken).ConfigureAwait(false), bucket);
    }

    /// <inheritdoc />
    public override string ToString() => inner.ToString() ?? nameof(ThrottledStore);

    /// <summary>A read-only stream whose reads take their bytes from the bucket first (at most <see cref="Slice"/> a read).</summary>
    private sealed class PacedStream(Stream inner, TokenBucket bucket) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var slice = buffer[..Math.Min(Slice, buffer.Length)];
            var read = await inner.ReadAsync(slice, cancellationToken).ConfigureAwait(false);
            if (read > 0)
                await bucket.TakeAsync(read, cancellationToken).ConfigureAwait(false);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class ThrottledObject(IStagedObject inner, TokenBucket bucket) : IStagedObject
    {
        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            while (!data.IsEmpty)
            {
                var slice = data[..Math.Min(Slice, data.Length)];
                await bucket.TakeAsync(slice.Length, cancellationToken).ConfigureAwait(false);
                await inner.WriteAsync(slice, cancellationToken).ConfigureAwait(false);
                data = data[slice.Length..];
            }
        }

        public Task CommitAsync(string name, CancellationToken cancellationToken = default) => inner.CommitAsync(name, cancellationToken);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
