using Portal.Engine.Operations;
using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Storage;

/// <summary>The conformance suite through the retry and prefix decorators over a real folder, staged puts included.</summary>
public sealed class DecoratedLocalStoreTests : ObjectStoreConformanceTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "portal-store-tests", Guid.NewGuid().ToString("N"));

    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult<IObjectStore>(new RetryingStore(new PrefixedStore(new LocalDirectoryStore(_root), "vault-1")));

    protected override Task DisposeStoreAsync()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_staged_object_lands_under_the_prefix()
    {
        var staged = Assert.IsAssignableFrom<IStagedPutStore>(Store);
        Assert.True(staged.CanStage);
        await using (var o = await staged.BeginPutAsync("data/"))
        {
            await o.WriteAsync(new byte[] { 1, 2, 3 });
            await o.CommitAsync("data/ab/staged");
        }
        Assert.True(File.Exists(Path.Combine(_root, "vault-1", "data", "ab", "staged")));
    }
}

/// <summary>Regression: packs were buffered in memory behind a decorator because it hid the inner store's staged puts.</summary>
public sealed class StagedPutsThroughDecoratorsTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task A_backup_through_retry_and_prefix_decorators_streams_its_packs()
    {
        _kit.WriteMixedTree();
        var hooked = HookedStore.Create(new LocalDirectoryStore(Path.Combine(_kit.Root, "shared")), staged: true);
        var store = new RetryingStore(new PrefixedStore(hooked, "vault-1"));
        using (var engine = await Portal.Engine.BackupEngine.InitAsync(store, EngineTestKit.Passphrase, EngineTestKit.Options))
        {
            var result = await engine.BackupAsync(new BackupRequest(_kit.Source));
            Assert.True(result.BlobsAdded > 0);
            var target = _kit.NewTarget();
            Assert.Empty((await engine.RestoreAsync(new RestoreRequest("latest", target))).Errors);
            EngineTestKit.AssertSameTree(_kit.Source, target);
        }
        Assert.NotEmpty(hooked.StagedCommits);
        Assert.All(hooked.StagedCommits, n => Assert.StartsWith("vault-1/data/", n));
        Assert.DoesNotContain(hooked.Puts, n => n.StartsWith("vault-1/data/", StringComparison.Ordinal));
    }

    [Fact]
    public void A_decorator_over_a_store_that_cannot_stage_says_so()
    {
        var plain = HookedStore.Create(new LocalDirectoryStore(Path.Combine(_kit.Root, "plain")), staged: false);
        Assert.False(new RetryingStore(plain).CanStage);
        Assert.False(new PrefixedStore(plain, "v").CanStage);
        Assert.Throws<NotSupportedException>(() => new PrefixedStore(plain, "v").BeginPutAsync("data/").GetAwaiter().GetResult());
    }
}
