using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Storage;

public sealed class RetryingStoreTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("portal-retry-").FullName;
    private static readonly RetryPolicy Fast = new(MaxRetries: 4, BaseDelay: TimeSpan.FromMilliseconds(1), MaxDelay: TimeSpan.FromMilliseconds(5));

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task Transient_errors_are_retried_with_backoff_until_the_call_succeeds()
    {
        var faulty = new FaultyStore(new LocalDirectoryStore(root));
        var retries = new List<string>();
        var store = new RetryingStore(faulty, Fast, retries.Add);
        faulty.FailNext(3, transient: true);

        await store.PutAsync("keys/k", new byte[] { 1, 2, 3 });

        Assert.Equal([1, 2, 3], await store.GetAsync("keys/k"));
        Assert.Equal(3, retries.Count);
        Assert.All(retries, r => Assert.Contains("503 Server Busy", r));
    }

    [Fact]
    public async Task Permanent_errors_surface_at_once_with_their_message()
    {
        var faulty = new FaultyStore(new LocalDirectoryStore(root));
        var store = new RetryingStore(faulty, Fast);
        faulty.FailNext(1, transient: false, "403 AuthorizationFailure: the account key is wrong");

        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("keys/k", new byte[] { 1 }));

        Assert.Equal("403 AuthorizationFailure: the account key is wrong", error.Message);
        Assert.Equal(1, faulty.Calls);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.GetAsync("keys/missing"));
        Assert.Equal(2, faulty.Calls);
    }

    [Fact]
    public async Task A_store_that_stays_down_fails_after_the_last_retry()
    {
        var faulty = new FaultyStore(new LocalDirectoryStore(root)) { Down = true };
        var store = new RetryingStore(faulty, Fast);

        var error = await Assert.ThrowsAsync<StoreException>(() => store.GetAsync("keys/k"));

        Assert.True(error.IsTransient);
        Assert.Equal(5, faulty.Calls);
    }
}
