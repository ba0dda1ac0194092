using System.Net;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Portal.Engine.Storage;

/// <summary>
/// An <see cref="IObjectStore"/> on one Azure Blob Storage container (or Azurite), objects as block blobs
/// named like the repository's objects.
/// </summary>
/// <remarks>
/// Atomic write-once put: an upload with <c>If-None-Match: *</c>; a block blob becomes visible only when its
/// block list commits, so a reader never sees part of one. A put that finds the blob already there compares
/// the content. Transient failures (timeouts, throttling, 5xx, network) are <see cref="StoreException"/>s with
/// <see cref="StoreException.IsTransient"/> set; retrying them is a decorator's job.
/// </remarks>
public sealed class AzureBlobStore : IObjectStore
{
    private readonly BlobContainerClient container;

    /// <summary>A store on <paramref name="container"/>; the container must exist (see <see cref="CreateContainerIfMissingAsync"/>).</summary>
    public AzureBlobStore(BlobContainerClient container) => this.container = container;

    /// <summary>A store reached with a connection string (Azurite, development).</summary>
    public static AzureBlobStore FromConnectionString(string connectionString, string containerName) =>
        new(new BlobContainerClient(connectionString, containerName, ClientOptions()));

    /// <summary>A store reached with an account URL and a credential, e.g. <c>DefaultAzureCredential</c> (production).</summary>
    public static AzureBlobStore FromAccountUrl(Uri accountUrl, string containerName, TokenCredential credential) =>
        new(new BlobServiceClient(accountUrl, credential, ClientOptions()).GetBlobContainerClient(containerName));

    /// <summary>Creates the container when it does not exist yet.</summary>
    public Task CreateContainerIfMissingAsync(CancellationToken cancellationToken = default) =>
        Call("create container " + container.Name, () => container.CreateIfNotExistsAsync(cancellationToken: cancellationToken));

    /// <inheritdoc />
    public async Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        var blob = container.GetBlobClient(name);
        try
        {
            await blob.UploadAsync(BinaryData.FromBytes(data),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is (int)HttpStatusCode.Conflict or (int)HttpStatusCode.PreconditionFailed)
        {
            var existing = await GetAsync(name, cancellationToken).ConfigureAwait(false);
            if (!existing.AsSpan().SequenceEqual(data.Span))
                throw new ObjectExistsException(name);
        }
        catch (Exception e) when (Translate(e, name) is { } error)
        {
            throw error;
        }
    }

    /// <inheritdoc />
    public async Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        try
        {
            var result = await container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return result.Value.Content.ToArray();
        }
        catch (Exception e) when (Translate(e, name) is { } error)
        {
            throw error;
        }
    }

    /// <inheritdoc />
    public async Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.Length == 0)
        {
            _ = await StatAsync(name, cancellationToken).ConfigureAwait(false) ?? throw new ObjectNotFoundException(name);
            return;
        }

        var read = 0;
        try
        {
            var response = await container.GetBlobClient(name).DownloadStreamingAsync(
                new BlobDownloadOptions { Range = new HttpRange(offset, destination.Length) }, cancellationToken).ConfigureAwait(false);
            await using var stream = response.Value.Content;
            while (read < destination.Length)
            {
                var n = await stream.ReadAsync(destination[read..], cancellationToken).ConfigureAwait(false);
                if (n == 0)
                    break;
                read += n;
            }
        }
        catch (RequestFailedException e) when (e.Status == (int)HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            read = -1;
        }
        catch (Exception e) when (Translate(e, name) is { } error)
        {
            throw error;
        }

        if (read != destination.Length)
        {
            var info = await StatAsync(name, cancellationToken).ConfigureAwait(false) ?? throw new ObjectNotFoundException(name);
            throw new ObjectTruncatedException(name, info.Length, offset + destination.Length);
        }
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        try
        {
            var properties = await container.GetBlobClient(name).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return new ObjectInfo(name, properties.Value.ContentLength, properties.Value.LastModified);
        }
        catch (RequestFailedException e) when (e.Status == (int)HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (Translate(e, name) is { } error)
        {
            throw error;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        var pages = container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix.Length == 0 ? null : prefix }, cancellationToken)
            .AsPages().GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                Page<BlobItem> page;
                try
                {
                    if (!await pages.MoveNextAsync().ConfigureAwait(false))
                        yield break;
                    page = pages.Current;
                }
                catch (Exception e) when (Translate(e, prefix) is { } error)
                {
                    throw error;
                }

                foreach (var item in page.Values)
                    yield return new ObjectInfo(item.Name, item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? DateTimeOffset.MinValue);
            }
        }
        finally
        {
            await pages.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        return Call(name, () => container.GetBlobClient(name).DeleteIfExistsAsync(cancellationToken: cancellationToken));
    }

    private static BlobClientOptions ClientOptions() => new()
    {
        // Retrying is a decorator's job (one policy for every store); the SDK only tries once per call.
        Retry = { MaxRetries = 0, NetworkTimeout = TimeSpan.FromSeconds(100) },
    };

    private async Task Call<T>(string what, Func<Task<T>> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, what) is { } error)
        {
            throw error;
        }
    }

    /// <summary>Maps SDK and network errors to the store contract; null leaves the exception as it is (cancellation).</summary>
    private StoreException? Translate(Exception e, string name) => e switch
    {
        StoreException => null,
        OperationCanceledException => null,
        RequestFailedException { ErrorCode: "ContainerNotFound" } => new StoreException(
            $"Azure Blob container '{container.Name}' does not exist: create it, or check the region's replica settings.", false, e),
        RequestFailedException { Status: (int)HttpStatusCode.NotFound } => new ObjectNotFoundException(name, e),
        RequestFailedException { Status: 0 } r => new StoreException(
            $"Azure Blob Storage could not be reached for '{name}': {(r.InnerException ?? r).Message}", true, e),
        RequestFailedException r => new StoreException(
            $"Azure Blob Storage refused '{name}': {r.Status} {r.ErrorCode}.", IsTransientStatus(r.Status), e),
        HttpRequestException or IOException or TimeoutException => new StoreException(
            $"Azure Blob Storage could not be reached for '{name}': {e.Message}", true, e),
        _ => null,
    };

    private static bool IsTransientStatus(int status) =>
        status is (int)HttpStatusCode.RequestTimeout or 429 or >= 500;
}
