using Azure.Core;
using Portal.Engine.Storage;

namespace Portal.Engine.Regions;

/// <summary>
/// Where one replica of a region lives: a local folder, or an Azure Blob container reached with a connection string or
/// with an account URL and a credential the caller chooses (the engine never picks an identity). Parsing a host's
/// configuration into locations, and wording its errors, stays with the host.
/// </summary>
public sealed class ReplicaLocation
{
    private readonly Func<IObjectStore> open;
    private readonly Func<CancellationToken, Task> prepare;

    private ReplicaLocation(string description, Func<IObjectStore> open, Func<CancellationToken, Task> prepare)
    {
        Description = description;
        this.open = open;
        this.prepare = prepare;
    }

    /// <summary>What to call the replica in logs and messages: the folder, or "container NAME"; never a secret.</summary>
    public string Description { get; }

    /// <summary>A local folder (made absolute against the current folder); created by <see cref="PrepareAsync"/>.</summary>
    public static ReplicaLocation Folder(string path)
    {
        var full = Path.GetFullPath(path);
        return new ReplicaLocation(full, () => new LocalDirectoryStore(full), _ =>
        {
            Directory.CreateDirectory(full);
            return Task.CompletedTask;
        });
    }

    /// <summary>An Azure Blob container reached with a connection string (Azurite, or an account key).</summary>
    public static ReplicaLocation AzureBlob(string connectionString, string container) =>
        Azure(container, () => AzureBlobStore.FromConnectionString(connectionString, container));

    /// <summary>An Azure Blob container reached at <paramref name="accountUrl"/> with <paramref name="credential"/> (a managed identity, say).</summary>
    public static ReplicaLocation AzureBlob(Uri accountUrl, string container, TokenCredential credential) =>
        Azure(container, () => AzureBlobStore.FromAccountUrl(accountUrl, container, credential));

    private static ReplicaLocation Azure(string container, Func<AzureBlobStore> create) =>
        new($"container {container}", create, ct => create().CreateContainerIfMissingAsync(ct));

    /// <summary>
    /// Creates the folder or container if it is missing. Throws <see cref="StoreException"/>, <see cref="IOException"/>
    /// or <see cref="UnauthorizedAccessException"/> when the replica cannot be reached or created.
    /// </summary>
    public Task PrepareAsync(CancellationToken cancellationToken = default) => prepare(cancellationToken);

    /// <summary>The replica's store, without any decorator (see <see cref="RegionStore.Build"/> for the chain).</summary>
    public IObjectStore Open() => open();

    /// <inheritdoc />
    public override string ToString() => Description;
}
