using System.Runtime.CompilerServices;

namespace Portal.Engine.Storage;

/// <summary>
/// A decorator that retries calls failing with a transient <see cref="StoreException"/> (kopia's
/// <c>repo/blob/retrying</c>): up to <see cref="Attempts"/> tries with exponential back-off from
/// <see cref="FirstDelay"/>, waiting on the given <see cref="TimeProvider"/>. Permanent errors and
/// cancellation pass through at once. Safe because every call is idempotent: puts are write-once
/// with identical content, deletes of missing objects succeed. Staged writes pass through unretried:
/// a failed pack fails its backup, and the next backup reuses every pack that was stored.
/// </summary>
public class RetryingStore : IObjectStore
{
    private readonly IObjectStore _inner;
    private readonly TimeProvider _time;

    private RetryingStore(IObjectStore inner, TimeProvider? time, int attempts, TimeSpan? firstDelay)
    {
        _inner = inner;
        _time = time ?? TimeProvider.System;
        Attempts = attempts;
        FirstDelay = firstDelay ?? TimeSpan.FromMilliseconds(200);
    }

    /// <summary>
    /// Wraps <paramref name="inner"/>; the result can stage objects exactly when <paramref name="inner"/> can.
    /// <paramref name="attempts"/> counts the first try; <paramref name="firstDelay"/> (default 200 ms) doubles per retry.
    /// </summary>
    public static RetryingStore Wrap(IObjectStore inner, TimeProvider? time = null, int attempts = 5, TimeSpan? firstDelay = null) =>
        inner is IStagedPutStore staged ? new Staging(staged, time, attempts, firstDelay) : new RetryingStore(inner, time, attempts, firstDelay);

    /// <summary>The decorated store's description, as shown in messages.</summary>
    public override string ToString() => _inner.ToString() ?? nameof(RetryingStore);

    /// <summary>Tries per call, the first included.</summary>
    public int Attempts { get; }

    /// <summary>Wait before the second try; doubled for each further try.</summary>
    public TimeSpan FirstDelay { get; }

    private sealed class Staging(IStagedPutStore inner, TimeProvider? time, int attempts, TimeSpan? firstDelay)
        : RetryingStore(inner, time, attempts, firstDelay), IStagedPutStore
    {
        public Task<IStagedObject> BeginPutAsync(string prefix, CancellationToken cancellationToken = default) =>
            inner.BeginPutAsync(prefix, cancellationToken);
    }

    /// <inheritdoc />
    public Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        RetryAsync(() => _inner.PutAsync(name, data, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default) =>
        RetryAsync(() => _inner.GetAsync(name, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        RetryAsync(() => _inner.ReadRangeAsync(name, offset, destination, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default) =>
        RetryAsync(() => _inner.StatAsync(name, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // A listing is retried as a whole, before anything was handed out.
        var all = await RetryAsync(async () =>
        {
            var list = new List<ObjectInfo>();
            await foreach (var o in _inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false)) list.Add(o);
            return list;
        }, cancellationToken).ConfigureAwait(false);
        foreach (var o in all) yield return o;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string name, CancellationToken cancellationToken = default) =>
        RetryAsync(() => _inner.DeleteAsync(name, cancellationToken), cancellationToken);

    private async Task RetryAsync(Func<Task> call, CancellationToken ct) =>
        await RetryAsync(async () => { await call().ConfigureAwait(false); return true; }, ct).ConfigureAwait(false);

    private async Task<T> RetryAsync<T>(Func<Task<T>> call, CancellationToken ct)
    {
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (StoreException e) when (e.IsTransient && attempt < Attempts)
            {
                if (delay > TimeSpan.Zero) await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                delay *= 2;
            }
        }
    }
}
