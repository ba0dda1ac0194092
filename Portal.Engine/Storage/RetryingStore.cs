using Polly;
using Polly.Retry;

namespace Portal.Engine.Storage;

/// <summary>How <see cref="RetryingStore"/> retries transient failures.</summary>
/// <param name="MaxRetries">Retries after the first attempt (default 5).</param>
/// <param name="BaseDelay">First backoff delay; doubled each retry, with jitter (default 200 ms).</param>
/// <param name="MaxDelay">Longest single delay (default 10 s).</param>
public sealed record RetryPolicy(int MaxRetries = 5, TimeSpan? BaseDelay = null, TimeSpan? MaxDelay = null)
{
    /// <summary>The defaults: 5 retries from 200 ms, at most 10 s apart.</summary>
    public static readonly RetryPolicy Default = new();
}

/// <summary>
/// Retries a store's transient failures (<see cref="StoreException.IsTransient"/>) with exponential backoff and
/// jitter (Polly); permanent failures and cancellation surface at once. Safe because every store call is
/// idempotent: puts are write-once with identical content, deletes of missing objects succeed.
/// Staged puts (<see cref="IStagedPutStore"/>) are forwarded when the inner store can stage: starting one is
/// retried, but the streamed writes and the commit are not (a stream cannot be replayed), so a transient failure
/// there fails that object's upload; the backup then fails and the next one reuses every pack already stored.
/// Puts from a source that opens again (<see cref="IStreamPutStore"/>, a spooled pack) are retried whole.
/// </summary>
public sealed class RetryingStore : IStagedPutStore, IStreamPutStore, IFolderListingStore
{
    private readonly IObjectStore inner;
    private readonly ResiliencePipeline pipeline;

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="onRetry"/> hears each retry (for logs and metrics).</summary>
    public RetryingStore(IObjectStore inner, RetryPolicy? policy = null, Action<string>? onRetry = null, TimeProvider? time = null)
    {
        this.inner = inner;
        policy ??= RetryPolicy.Default;
        pipeline = new ResiliencePipelineBuilder { TimeProvider = time ?? TimeProvider.System }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<StoreException>(e => e.IsTransient),
                MaxRetryAttempts = policy.MaxRetries,
                Delay = policy.BaseDelay ?? TimeSpan.FromMilliseconds(200),
                MaxDelay = policy.MaxDelay ?? TimeSpan.FromSeconds(10),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = args =>
                {
                    onRetry?.Invoke($"retry {args.AttemptNumber + 1} after {args.RetryDelay.TotalMilliseconds:0} ms: {args.Outcome.Exception?.Message}");
                    return default;
                },
            })
            .Build();
    }

    /// <inheritdoc />
    public Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        pipeline.ExecuteAsync(async ct => await inner.PutAsync(name, data, ct).ConfigureAwait(false), cancellationToken).AsTask();

    /// <inheritdoc />
    public Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default) =>
        pipeline.ExecuteAsync(async ct => await inner.GetAsync(name, ct).ConfigureAwait(false), cancellationToken).AsTask();

    /// <inheritdoc />
    public Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        pipeline.ExecuteAsync(async ct => await inner.ReadRangeAsync(name, offset, destination, ct).ConfigureAwait(false), cancellationToken).AsTask();

    /// <inheritdoc />
    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default) =>
        pipeline.ExecuteAsync(async ct => await inner.StatAsync(name, ct).ConfigureAwait(false), cancellationToken).AsTask();

    /// <summary>Lists with the whole listing retried on a transient failure (names already seen are not repeated).</summary>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var all = await pipeline.ExecuteAsync(async ct =>
        {
            var list = new List<ObjectInfo>();
            await foreach (var info in inner.ListAsync(prefix, ct).ConfigureAwait(false))
                list.Add(info);
            return list;
        }, cancellationToken).ConfigureAwait(false);
        foreach (var info in all)
            yield return info;
    }

    /// <inheritdoc />
    public bool CanListFolders => inner is IFolderListingStore { CanListFolders: true };

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListFoldersAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var all = await pipeline.ExecuteAsync(async ct => await inner.ListFoldersAsync(prefix, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        foreach (var name in all)
            yield return name;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string name, CancellationToken cancellationToken = default) =>
        pipeline.ExecuteAsync(async ct => await inner.DeleteAsync(name, ct).ConfigureAwait(false), cancellationToken).AsTask();

    /// <inheritdoc />
    public bool CanStage => inner is IStagedPutStore { CanStage: true };

    /// <inheritdoc />
    public bool CanStageNamed => inner is IStagedPutStore { CanStageNamed: true };

    /// <inheritdoc />
    public Task<IStagedObject> BeginNamedPutAsync(string name, CancellationToken cancellationToken = default)
    {
        if (inner is not IStagedPutStore { CanStageNamed: true } staged)
            throw new NotSupportedException("The wrapped store cannot stage objects (check CanStageNamed first).");
        return pipeline.ExecuteAsync(async ct => await staged.BeginNamedPutAsync(name, ct).ConfigureAwait(false), cancellationToken).AsTask();
    }

    /// <inheritdoc />
    public bool CanPutStream => inner is IStreamPutStore { CanPutStream: true };

    /// <summary>Puts from a source opened again for each attempt: a transient failure sends the whole object again.</summary>
    public Task PutStreamAsync(string name, Func<Stream> open, long length, CancellationToken cancellationToken = default)
    {
        if (inner is not IStreamPutStore { CanPutStream: true } streams)
            throw new NotSupportedException("The wrapped store cannot put from a stream (check CanPutStream first).");
        return pipeline.ExecuteAsync(async ct => await streams.PutStreamAsync(name, open, length, ct).ConfigureAwait(false), cancellationToken).AsTask();
    }

    /// <inheritdoc />
    public Task<IStagedObject> BeginPutAsync(string prefix, CancellationToken cancellationToken = default)
    {
        if (inner is not IStagedPutStore { CanStage: true } staged)
            throw new NotSupportedException("The wrapped store cannot stage objects (check CanStage first).");
        return pipeline.ExecuteAsync(async ct => await staged.BeginPutAsync(prefix, ct).ConfigureAwait(false), cancellationToken).AsTask();
    }
}
