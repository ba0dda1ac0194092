using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Storage;

/// <summary>The retrying decorator keeps the store contract (the whole conformance suite) and retries only transient errors.</summary>
public sealed class RetryingStoreTests : ObjectStoreConformanceTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "portal-store-tests", Guid.NewGuid().ToString("N"));

    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult<IObjectStore>(RetryingStore.Wrap(new LocalDirectoryStore(_root), firstDelay: TimeSpan.Zero));

    protected override Task DisposeStoreAsync()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    private (HookedStore Hooked, RetryingStore Retrying, List<string> Calls) FailingFirst(int failures, bool transient)
    {
        var calls = new List<string>();
        var hooked = new HookedStore(new LocalDirectoryStore(_root));
        hooked.BeforePut = name =>
        {
            calls.Add(name);
            return calls.Count <= failures ? new StoreException("injected", transient) : null;
        };
        return (hooked, RetryingStore.Wrap(hooked, attempts: 3, firstDelay: TimeSpan.Zero), calls);
    }

    [Fact]
    public async Task Transient_errors_are_retried_until_the_call_succeeds()
    {
        var (_, store, calls) = FailingFirst(2, transient: true);
        await store.PutAsync("data/aa/x", new byte[] { 1 });
        Assert.Equal(3, calls.Count);
        Assert.Equal(new byte[] { 1 }, await store.GetAsync("data/aa/x"));
    }

    [Fact]
    public async Task Permanent_errors_are_not_retried()
    {
        var (_, store, calls) = FailingFirst(1, transient: false);
        await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("data/aa/x", new byte[] { 1 }));
        Assert.Single(calls);
    }

    [Fact]
    public async Task After_the_last_attempt_the_transient_error_surfaces()
    {
        var (_, store, calls) = FailingFirst(10, transient: true);
        var e = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("data/aa/x", new byte[] { 1 }));
        Assert.True(e.IsTransient);
        Assert.Equal(3, calls.Count);
    }

    [Fact]
    public void The_staging_ability_is_kept_exactly_when_the_inner_store_has_it()
    {
        Assert.IsAssignableFrom<IStagedPutStore>(RetryingStore.Wrap(new LocalDirectoryStore(_root)));
        Assert.False(RetryingStore.Wrap(new HookedStore(new LocalDirectoryStore(_root))) is IStagedPutStore);
    }
}
