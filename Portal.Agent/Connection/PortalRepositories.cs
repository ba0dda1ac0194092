using Portal.Agent.Jobs;
using Portal.Engine;
using Portal.Engine.Storage;

namespace Portal.Agent.Connection;

/// <summary>
/// The machine's repositories through the portal's store endpoint (<see cref="HttpObjectStore"/>, a fresh machine token
/// per request): its own, with uploads paced by <see cref="UploadLimit"/>, or another machine's, read-only under a grant.
/// </summary>
internal sealed class PortalRepositories(HttpClient http, Uri portal, MachineIdentity identity, UploadLimit limit) : IRepositoryOpener
{
    /// <summary>The machine's own repository as a store (uploads paced).</summary>
    public IObjectStore Own() => new ThrottledStore(new HttpObjectStore(http, portal, identity.Authorization), limit.Bucket);

    /// <inheritdoc />
    public Task<BackupEngine> OpenAsync(Guid? sourceMachine, RepositoryKey key, CancellationToken ct)
    {
        var store = sourceMachine is { } source ? new HttpObjectStore(http, portal, identity.Authorization, source) : Own();
        return BackupEngine.OpenWithKeyAsync(store, key, cancellationToken: ct);
    }
}
