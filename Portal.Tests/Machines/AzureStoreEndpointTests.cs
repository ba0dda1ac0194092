using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Portal.Engine.Agents;

namespace Portal.Tests.Machines;

/// <summary>
/// Issue 21: a machine's pack uploaded into a region with an Azure Blob replica (Azurite, with two local-disk replicas
/// beside it) is staged as it arrives, 4 MiB block by block, and committed once its bytes hash to its name: the portal
/// never holds the whole pack (it used to buffer it and put it whole). A body that does not match its name leaves no blob.
/// </summary>
public sealed class AzureStoreEndpointTests : IAsyncLifetime
{
    private static readonly string Azurite = Environment.GetEnvironmentVariable("PORTAL_TEST_AZURITE")
        ?? throw new InvalidOperationException("PORTAL_TEST_AZURITE is not set: run the tests with ./portal.sh test, which starts Azurite.");

    private readonly string containerName = "machines-" + Guid.NewGuid().ToString("N");
    private readonly AccessHost host;

    public AzureStoreEndpointTests() => host = new AccessHost(new Dictionary<string, string>
    {
        // central (no pair): replica 1 in Azure Blob, replicas 2 and 3 on local disk.
        ["Storage:Regions:2:Replicas:0:Kind"] = "AzureBlob",
        ["Storage:Regions:2:Replicas:0:Path"] = "",
        ["Storage:Regions:2:Replicas:0:Container"] = containerName,
        ["Storage:Regions:2:Replicas:0:ConnectionString"] = Azurite,
    });

    private BlobContainerClient Container => new(Azurite, containerName);

    public async Task InitializeAsync()
    {
        await Container.CreateIfNotExistsAsync();
        await host.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await Container.DeleteIfExistsAsync();
    }

    [Fact]
    public async Task A_pack_is_staged_in_blocks_as_it_arrives_and_a_body_that_does_not_match_its_name_leaves_nothing()
    {
        var vault = await host.CreateVaultAsync("azure-machines", "central");
        var machine = await host.RegisterAsync(vault, "files-04");
        var store = host.Store(machine);
        var pack = RandomNumberGenerator.GetBytes(9 * 1024 * 1024 + 123);
        var hash = Convert.ToHexStringLower(SHA256.HashData(pack));
        var name = $"data/{hash[..2]}/{hash}";

        await store.PutAsync(name, pack);

        var blobName = $"vaults/{vault.Id:N}/machines/{machine.Id:N}/{name}";
        var blocks = (await Container.GetBlockBlobClient(blobName).GetBlockListAsync(BlockListTypes.All)).Value;
        Assert.Equal(new long[] { 4 * 1024 * 1024, 4 * 1024 * 1024, 1024 * 1024 + 123 }, blocks.CommittedBlocks.Select(b => b.SizeLong));
        Assert.Equal(pack, (await Container.GetBlobClient(blobName).DownloadContentAsync()).Value.Content.ToArray());
        Assert.Equal(pack, await store.GetAsync(name));                                     // read back through the endpoint
        Assert.Equal(pack, await File.ReadAllBytesAsync(Path.Combine(host.Regions, "central", "2", blobName)));
        await store.PutAsync(name, pack);                                                   // the same again: fine, unchanged

        // A body that does not hash to its name: refused, and no blob appears (its staged blocks are never committed).
        var other = RandomNumberGenerator.GetBytes(5 * 1024 * 1024);
        var otherHash = Convert.ToHexStringLower(SHA256.HashData(other));
        other[0] ^= 1;
        using var client = host.Client();
        using var put = new HttpRequestMessage(HttpMethod.Put, new Uri(host.BaseAddress, $"{AgentRoutes.Store}/data/{otherHash[..2]}/{otherHash}"))
        {
            Content = new ByteArrayContent(other) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } },
        };
        put.Headers.TryAddWithoutValidation("Authorization", machine.Authorization(host.Clock.GetUtcNow()));
        using var refused = await client.SendAsync(put);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal([blobName], await Container.GetBlobsAsync().Select(b => b.Name).ToListAsync());
    }
}
