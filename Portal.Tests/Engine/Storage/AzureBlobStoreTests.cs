using Azure.Storage.Blobs;
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
    public async Task Objects_are_block_blobs_with_the_objects_names()
    {
        await Store.PutAsync("data/ab/xyz", new byte[] { 1, 2, 3 });

        var content = await container.GetBlobClient("data/ab/xyz").DownloadContentAsync();

        Assert.Equal([1, 2, 3], content.Value.Content.ToArray());
    }
}
