using Portal.Engine.Replication;
using Portal.Engine.Storage;

namespace Portal.Engine.Regions;

/// <summary>How <see cref="RegionStore.Build"/> assembles a region's store.</summary>
public sealed record RegionStoreOptions
{
    /// <summary>How each replica retries transient failures (default <see cref="RetryPolicy.Default"/>): one policy for every host.</summary>
    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    /// <summary>Hears each retry with the replica it concerns and a line saying which attempt, after what, and why (default: nobody).</summary>
    public Action<ReplicaLocation, string>? OnRetry { get; init; }

    /// <summary>The clock of the retry delays (default: system clock).</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>
    /// Makes the replicated store from the retrying replicas, in the order given (default: <c>new ReplicatedStore(replicas)</c>).
    /// The hook for a host that passes more to <see cref="ReplicatedStore"/>'s constructor.
    /// </summary>
    public Func<IReadOnlyList<IObjectStore>, ReplicatedStore> Replicated { get; init; } = replicas => new ReplicatedStore(replicas);
}

/// <summary>
/// The one store chain of a region, the same for the portal and the CLI: each replica behind its own
/// <see cref="RetryingStore"/> (so one slow or flaky replica retries alone), joined into one LRS
/// <see cref="ReplicatedStore"/>. A vault's repository is a prefix of it (<see cref="VaultLayout"/>).
/// </summary>
public static class RegionStore
{
    /// <summary>
    /// The region's store over <paramref name="replicas"/> (one to nine, as <see cref="ReplicatedStore"/> takes).
    /// Nothing is contacted here: stores connect on first use.
    /// </summary>
    public static ReplicatedStore Build(IReadOnlyList<ReplicaLocation> replicas, RegionStoreOptions? options = null)
    {
        options ??= new RegionStoreOptions();
        var onRetry = options.OnRetry;
        return options.Replicated([.. replicas.Select(replica => (IObjectStore)new RetryingStore(replica.Open(), options.Retry,
            onRetry is null ? null : message => onRetry(replica, message), options.Time))]);
    }
}
