using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Storage;

/// <summary>The conformance suite on Azurite (Microsoft's Azure Storage emulator) started by ./portal.sh test.</summary>
public sealed class AzureBlobStoreTests : ObjectStoreConformanceTests
{
    private readonly BlobContainerClient container = new(
        Environment.GetEnvironmentVariable("PORTAL_TEST_AZURITE")
            ?? throw new InvalidOperationException("PORTAL_TEST_AZURITE is not set: run the tests with ./portal.sh test, which starts Azurite."),
        "store-" + Guid.NewGuid().ToString("N"));

    protected override async Task<IObjectStore> CreateStoreAsync()
    {
        var store = new AzureBlobStore(container);
        await store.CreateContainerIfMissingAsync();
        return store;
    }

    protected override Task DisposeStoreAsync() => container.DeleteIfExistsAsync();

    [Fact]
    public async Task An_unreachable_account_is_a_transient_store_error()
    {
        var nowhere = AzureBlobStore.FromConnectionString(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;",
            "nowhere");

        var error = await Assert.ThrowsAsync<StoreException>(() => nowhere.GetAsync("keys/k"));

        Assert.True(error.IsTransient);
        Assert.Contains("could not be reached", error.Message);
    }

    [Fact]
    public async Task A_named_staged_object_goes_up_block_by_block_is_invisible_until_committed_and_stays_write_once()
    {
        var store = (AzureBlobStore)Store;
        Assert.False(store.CanStage);                                   // blocks belong to their blob: the name comes first
        var data = System.Security.Cryptography.RandomNumberGenerator.GetBytes(AzureBlobStore.BlockSize + 1000);
        await using (var staged = await store.BeginNamedPutAsync("data/ab/staged"))
        {
            for (var at = 0; at < data.Length; at += 300_000)
                await staged.WriteAsync(data.AsMemory(at, Math.Min(300_000, data.Length - at)));
            Assert.Null(await store.StatAsync("data/ab/staged"));         // staged blocks are not an object
            await Assert.ThrowsAsync<InvalidObjectNameException>(() => staged.CommitAsync("data/ab/other"));
            await staged.CommitAsync("data/ab/staged");
        }

        var blocks = (await container.GetBlockBlobClient("data/ab/staged").GetBlockListAsync()).Value.CommittedBlocks;
        Assert.Equal(new long[] { AzureBlobStore.BlockSize, 1000 }, blocks.Select(b => b.SizeLong));
        Assert.Equal(data, await store.GetAsync("data/ab/staged"));

        await using (var same = await store.BeginNamedPutAsync("data/ab/staged"))
        {
            await same.WriteAsync(data);
            await same.CommitAsync("data/ab/staged");                    // identical bytes: fine
        }

        await using (var different = await store.BeginNamedPutAsync("data/ab/staged"))
        {
            await different.WriteAsync(data.AsMemory(1));
            await Assert.ThrowsAsync<ObjectExistsException>(() => different.CommitAsync("data/ab/staged"));
        }

        Assert.Equal(data, await store.GetAsync("data/ab/staged"));       // untouched
    }

    [Fact]
    public async Task Objects_are_block_blobs_with_the_objects_names()
    {
        await Store.PutAsync("data/ab/xyz", new byte[] { 1, 2, 3 });

        var content = await container.GetBlobClient("data/ab/xyz").DownloadContentAsync();

        Assert.Equal([1, 2, 3], content.Value.Content.ToArray());
    }
}
