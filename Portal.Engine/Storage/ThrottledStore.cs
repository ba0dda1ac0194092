using System.Runtime.CompilerServices;

namespace Portal.Engine.Storage;

/// <summary>
/// Limits the upload bandwidth of a store: every put and every staged write takes its bytes from a
/// <see cref="TokenBucket"/> before it goes on to the inner store (reads, lists and deletes are not limited). Share one
/// bucket between stores to share one limit (a region's vaults). Staged puts are forwarded when the inner store can
/// stage, with their writes paced in slices of at most 256 KiB so a large pack does not go out as one burst.
/// </summary>
public sealed class ThrottledStore(IObjectStore inner, TokenBucket bucket) : IStagedPutStore
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
    public async Task<IStagedObject> BeginPutAsync(string prefix, CancellationToken cancellationToken = default)
    {
        if (inner is not IStagedPutStore { CanStage: true } staged)
            throw new NotSupportedException("The wrapped store cannot stage objects (check CanStage first).");
        return new ThrottledObject(await staged.BeginPutAsync(prefix, cancellationToken).ConfigureAwait(false), bucket);
    }

    /// <inheritdoc />
    public override string ToString() => inner.ToString() ?? nameof(ThrottledStore);

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
