using Portal.Agent.Jobs;
using Portal.Engine;
using Portal.Engine.Storage;

namespace Portal.Agent.Connection;

/// <summary>
/// The machine's repositories through the portal's store endpoint (<see cref="HttpObjectStore"/>, a fresh machine token
/// per request): its own, with uploads paced by <see cref="UploadLimit"/>, or another machine's, read-only under a grant.
/// Every call retries transient failures for up to about three minutes (<see cref="Retry"/>): a portal instance that
/// restarts, or a load balancer that moves the machine to another instance, pauses a backup instead of failing it.
/// With a <paramref name="spool"/> folder, the packs a backup builds are held in memory up to <paramref name="spoolMemory"/>
/// (by default <see cref="SpoolMemory"/>, three 16 MiB packs: the one being filled and two uploading) and any beyond it written to a temporary file there
/// (<see cref="SpoolingStore"/>); each is uploaded from where it is, and a transient failure sends it again.
/// </summary>
internal sealed class PortalRepositories(HttpClient http, Uri portal, MachineIdentity identity, UploadLimit limit, Action<string>? onRetry = null,
    string? spool = null, long spoolMemory = PortalRepositories.SpoolMemory)
    : IRepositoryOpener
{
    /// <summary>12 retries, from 0.5 s doubling to 20 s between them.</summary>
    public static readonly RetryPolicy Retry = new(MaxRetries: 12, BaseDelay: TimeSpan.FromMilliseconds(500), MaxDelay: TimeSpan.FromSeconds(20));

    /// <summary>Bytes of packs held in memory for upload before they go to files.</summary>
    public const long SpoolMemory = 3 * 17 * 1024 * 1024;

    /// <summary>The machine's own repository as a store (uploads paced).</summary>
    public IObjectStore Own()
    {
        var store = new ThrottledStore(Retrying(new HttpObjectStore(http, portal, identity.Authorization)), limit.Bucket);
        return spool is null ? store : new SpoolingStore(store, spool, spoolMemory);
    }

    private RetryingStore Retrying(IObjectStore store) => new(store, Retry, onRetry);

    /// <inheritdoc />
    public Task<BackupEngine> OpenAsync(Guid? sourceMachine, RepositoryKey key, CancellationToken ct)
    {
        var store = sourceMachine is { } source ? Retrying(new HttpObjectStore(http, portal, identity.Authorization, source)) : Own();
        return BackupEngine.OpenWithKeyAsync(store, key, cancellationToken: ct);
    }
}
