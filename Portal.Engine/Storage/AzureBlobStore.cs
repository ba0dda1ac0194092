using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

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
/// An object whose name is known before its bytes (<see cref="IStagedPutStore.BeginNamedPutAsync"/>, the portal's store
/// endpoint) is staged as it arrives: a block of <see cref="BlockSize"/> at a time (Put Block), committed with
/// <c>If-None-Match: *</c> (Put Block List), so the writer holds one block, not the object. Staging without the name is not
/// possible (blocks belong to their blob): <see cref="IStagedPutStore.CanStage"/> is false.
/// </remarks>
public sealed class AzureBlobStore : IStagedPutStore, IFolderListingStore
{
    /// <summary>The size of one staged block (the last may be shorter).</summary>
    public const int BlockSize = 4 * 1024 * 1024;

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
    public async IAsyncEnumerable<string> ListFoldersAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        var items = container.GetBlobsByHierarchyAsync(new GetBlobsByHierarchyOptions { Prefix = prefix.Length == 0 ? null : prefix, Delimiter = "/" }, cancellationToken);
        await foreach (var item in ItemsAsync(items, prefix, cancellationToken).ConfigureAwait(false))
            if (item.IsPrefix)
                yield return item.Prefix[prefix.Length..].TrimEnd('/');
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        var items = container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix.Length == 0 ? null : prefix }, cancellationToken);
        await foreach (var item in ItemsAsync(items, prefix, cancellationToken).ConfigureAwait(false))
            yield return new ObjectInfo(item.Name, item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? DateTimeOffset.MinValue);
    }

    /// <summary>The items of a listing page by page, each page's failure translated as every other call's (a listing cannot wrap its yields in a try).</summary>
    private async IAsyncEnumerable<T> ItemsAsync<T>(AsyncPageable<T> listing, string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : notnull
    {
        var pages = listing.AsPages().GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                Page<T> page;
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
                    yield return item;
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

    /// <summary>False: a block belongs to its blob, so staging needs the name first (<see cref="BeginNamedPutAsync"/>).</summary>
    public bool CanStage => false;

    /// <inheritdoc />
    public bool CanStageNamed => true;

    /// <inheritdoc />
    public Task<IStagedObject> BeginPutAsync(string prefix, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Azure Blob stages blocks of a named blob: use BeginNamedPutAsync (check CanStage first).");

    /// <inheritdoc />
    public Task<IStagedObject> BeginNamedPutAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        return Task.FromResult<IStagedObject>(new StagedBlob(this, name, container.GetBlockBlobClient(name)));
    }

    /// <summary>
    /// A blob being staged: bytes gather in one pooled block, each full block is put (uncommitted, invisible), and the
    /// commit puts the block list with <c>If-None-Match: *</c>. When the blob exists already (another attempt committed it
    /// first, which also drops this attempt's blocks), its bytes are hashed and compared with these: the same is fine,
    /// others are <see cref="ObjectExistsException"/>. Abandoned blocks are dropped by Azure after a week.
    /// </summary>
    private sealed class StagedBlob(AzureBlobStore store, string name, BlockBlobClient blob) : IStagedObject
    {
        private readonly string attempt = Guid.NewGuid().ToString("N");
        private readonly List<string> blocks = [];
        private readonly IncrementalHash sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private byte[]? buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BlockSize);
        private int filled;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            sha.AppendData(data.Span);
            while (!data.IsEmpty)
            {
                var take = Math.Min(data.Length, BlockSize - filled);
                data.Span[..take].CopyTo(buffer.AsSpan(filled));
                filled += take;
                data = data[take..];
                if (filled == BlockSize)
                    await PutBlockAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        private async Task PutBlockAsync(CancellationToken cancellationToken)
        {
            // Block ids of one blob must all have the same length: this attempt's id and a 6-digit index.
            var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{attempt}-{blocks.Count:D6}"));
            try
            {
                using var block = new MemoryStream(buffer!, 0, filled, writable: false);
                await blob.StageBlockAsync(id, block, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (store.Translate(e, name) is { } error)
            {
                throw error;
            }

            blocks.Add(id);
            filled = 0;
        }

        public async Task CommitAsync(string committed, CancellationToken cancellationToken = default)
        {
            if (!string.Equals(committed, name, StringComparison.Ordinal))
                throw new InvalidObjectNameException(committed);
            if (filled > 0)
                await PutBlockAsync(cancellationToken).ConfigureAwait(false);
            var hash = sha.GetHashAndReset();
            try
            {
                await blob.CommitBlockListAsync(blocks,
                    new CommitBlockListOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status is (int)HttpStatusCode.Conflict or (int)HttpStatusCode.PreconditionFailed or (int)HttpStatusCode.BadRequest)
            {
                // Exists already (or another attempt's commit dropped these blocks: InvalidBlockList): the same bytes are fine.
                byte[] existing;
                try
                {
                    existing = await store.GetAsync(name, cancellationToken).ConfigureAwait(false);
                }
                catch (ObjectNotFoundException)
                {
                    throw store.Translate(e, name) ?? throw new StoreException($"Azure Blob Storage refused '{name}'.", false, e);
                }

                if (!SHA256.HashData(existing).AsSpan().SequenceEqual(hash))
                    throw new ObjectExistsException(name);
            }
            catch (Exception e) when (store.Translate(e, name) is { } error)
            {
                throw error;
            }
        }

        public ValueTask DisposeAsync()
        {
            sha.Dispose();
            if (buffer is { } rented)
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            buffer = null;
            return ValueTask.CompletedTask;
        }
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
