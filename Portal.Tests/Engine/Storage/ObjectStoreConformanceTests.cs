using System.Text;
using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Storage;

/// <summary>
/// The contract of <see cref="IObjectStore"/>, run by every provider: derive, create a fresh empty store
/// per test, and clean it up in <see cref="DisposeStore"/>.
/// </summary>
public abstract class ObjectStoreConformanceTests : IAsyncLifetime
{
    protected IObjectStore Store { get; private set; } = null!;

    protected abstract Task<IObjectStore> CreateStoreAsync();
    protected abstract Task DisposeStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();
    public Task DisposeAsync() => DisposeStoreAsync();

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Put_then_get_returns_the_same_bytes()
    {
        var data = EngineTestKit.Random(100_000, 1);
        await Store.PutAsync("data/ab/object", data);
        Assert.Equal(data, await Store.GetAsync("data/ab/object"));
    }

    [Fact]
    public async Task Empty_objects_are_allowed()
    {
        await Store.PutAsync("empty", Array.Empty<byte>());
        Assert.Empty(await Store.GetAsync("empty"));
        Assert.Equal(0, (await Store.StatAsync("empty"))!.Length);
    }

    [Fact]
    public async Task Putting_identical_content_again_succeeds()
    {
        await Store.PutAsync("keys/k", Bytes("same"));
        await Store.PutAsync("keys/k", Bytes("same"));
        Assert.Equal(Bytes("same"), await Store.GetAsync("keys/k"));
    }

    [Fact]
    public async Task Putting_different_content_under_an_existing_name_is_refused_and_keeps_the_original()
    {
        await Store.PutAsync("keys/k", Bytes("first"));
        var e = await Assert.ThrowsAsync<ObjectExistsException>(() => Store.PutAsync("keys/k", Bytes("second")));
        Assert.False(e.IsTransient);
        Assert.Equal(Bytes("first"), await Store.GetAsync("keys/k"));
    }

    [Fact]
    public async Task Concurrent_puts_of_the_same_object_all_succeed()
    {
        var data = EngineTestKit.Random(1_000_000, 2);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.PutAsync("data/cc/same", data))));
        Assert.Equal(data, await Store.GetAsync("data/cc/same"));
        Assert.Single(await ListAsync("data/"));
    }

    [Fact]
    public async Task Get_of_a_missing_object_throws_a_permanent_not_found()
    {
        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetAsync("nope"));
        Assert.False(e.IsTransient);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetRangeAsync("data/zz/nope", 0, 1));
    }

    [Fact]
    public async Task Stat_reports_size_or_null()
    {
        await Store.PutAsync("index/i1", Bytes("12345"));
        var info = await Store.StatAsync("index/i1");
        Assert.NotNull(info);
        Assert.Equal("index/i1", info.Name);
        Assert.Equal(5, info.Length);
        Assert.Null(await Store.StatAsync("index/missing"));
    }

    [Fact]
    public async Task Range_reads_return_the_slice_and_refuse_reads_past_the_end()
    {
        var data = EngineTestKit.Random(10_000, 3);
        await Store.PutAsync("data/01/pack", data);
        Assert.Equal(data[1000..1500], await Store.GetRangeAsync("data/01/pack", 1000, 500));
        Assert.Equal(data[9990..], await Store.GetRangeAsync("data/01/pack", 9990, 10));
        await Assert.ThrowsAsync<ObjectTruncatedException>(() => Store.GetRangeAsync("data/01/pack", 9990, 11));
        var into = new byte[300];
        await Store.ReadRangeAsync("data/01/pack", 5, into.AsMemory(100, 100));
        Assert.Equal(data[5..105], into[100..200]);
    }

    [Fact]
    public async Task List_filters_by_prefix_across_nested_names()
    {
        await Store.PutAsync("data/aa/one", Bytes("1"));
        await Store.PutAsync("data/bb/two", Bytes("22"));
        await Store.PutAsync("index/three", Bytes("333"));
        await Store.PutAsync("config", Bytes("c"));
        Assert.Equal(["data/aa/one", "data/bb/two"], await ListAsync("data/"));
        Assert.Equal(["data/aa/one"], await ListAsync("data/aa"));
        Assert.Equal(["config", "data/aa/one", "data/bb/two", "index/three"], await ListAsync(""));
        Assert.Empty(await ListAsync("snapshots/"));
        var sizes = new Dictionary<string, long>();
        await foreach (var o in Store.ListAsync("data/")) sizes[o.Name] = o.Length;
        Assert.Equal(2, sizes["data/bb/two"]);
    }

    /// <summary>
    /// The folders right under a prefix, by the store's own ability where it has one and from a full listing where not:
    /// the same answer either way (how the vault page finds machine repositories the catalog does not know).
    /// </summary>
    [Fact]
    public async Task Folders_under_a_prefix_are_listed_without_their_objects()
    {
        await Store.PutAsync("vaults/v1/machines/m1/config", Bytes("c"));
        await Store.PutAsync("vaults/v1/machines/m1/data/aa/pack", Bytes("p"));
        await Store.PutAsync("vaults/v1/machines/m2/keys/k", Bytes("k"));
        await Store.PutAsync("vaults/v1/machines/loose", Bytes("l"));
        await Store.PutAsync("vaults/v1/config", Bytes("c"));
        Assert.Equal(["m1", "m2"], await Store.ListFoldersAsync("vaults/v1/machines/"));
        Assert.Equal(["machines"], await Store.ListFoldersAsync("vaults/v1/"));
        Assert.Equal(["vaults"], await Store.ListFoldersAsync(""));
        Assert.Empty(await Store.ListFoldersAsync("vaults/v2/machines/"));
    }

    [Fact]
    public async Task Delete_removes_and_deleting_a_missing_object_is_not_an_error()
    {
        await Store.PutAsync("locks/l1", Bytes("x"));
        await Store.DeleteAsync("locks/l1");
        Assert.Null(await Store.StatAsync("locks/l1"));
        Assert.Empty(await ListAsync("locks/"));
        await Store.DeleteAsync("locks/l1");
        await Store.DeleteAsync("never/existed");
    }

    [Fact]
    public async Task Deleted_names_can_be_written_again()
    {
        await Store.PutAsync("snapshots/s", Bytes("a"));
        await Store.DeleteAsync("snapshots/s");
        await Store.PutAsync("snapshots/s", Bytes("b"));
        Assert.Equal(Bytes("b"), await Store.GetAsync("snapshots/s"));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/absolute")]
    [InlineData("data//double")]
    [InlineData("data/./x")]
    [InlineData("Upper")]
    [InlineData("back\\slash")]
    [InlineData("")]
    public async Task Invalid_names_are_refused(string name)
    {
        await Assert.ThrowsAsync<InvalidObjectNameException>(() => Store.PutAsync(name, Bytes("x")));
        await Assert.ThrowsAsync<InvalidObjectNameException>(() => Store.GetAsync(name));
    }

    [Fact]
    public async Task A_cancelled_put_leaves_no_object_visible()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.PutAsync("data/cc/cancelled", EngineTestKit.Random(1000, 4), cts.Token));
        Assert.Null(await Store.StatAsync("data/cc/cancelled"));
        Assert.Empty(await ListAsync(""));
    }

    [Fact]
    public async Task A_staged_object_is_invisible_until_committed_then_complete()
    {
        if (Store is not IStagedPutStore { CanStage: true } staged) return; // optional ability
        var part1 = EngineTestKit.Random(300_000, 6);
        var part2 = EngineTestKit.Random(5, 7);
        await using (var o = await staged.BeginPutAsync("data/"))
        {
            await o.WriteAsync(part1);
            await o.WriteAsync(part2);
            Assert.Empty(await ListAsync(""));
            await o.CommitAsync("data/ab/staged");
        }
        var stored = await Store.GetAsync("data/ab/staged");
        Assert.Equal(part1.Concat(part2).ToArray(), stored);
        Assert.Equal(["data/ab/staged"], await ListAsync(""));
    }

    [Fact]
    public async Task A_staged_object_disposed_without_commit_leaves_nothing()
    {
        if (Store is not IStagedPutStore { CanStage: true } staged) return;
        await using (var o = await staged.BeginPutAsync("data/"))
            await o.WriteAsync(EngineTestKit.Random(1000, 8));
        Assert.Empty(await ListAsync(""));
    }

    [Fact]
    public async Task Committing_a_staged_object_follows_the_write_once_rule()
    {
        if (Store is not IStagedPutStore { CanStage: true } staged) return;
        await Store.PutAsync("data/cd/x", Bytes("same"));
        await using (var o = await staged.BeginPutAsync("data/"))
        {
            await o.WriteAsync(Bytes("same"));
            await o.CommitAsync("data/cd/x");
        }
        await using (var o = await staged.BeginPutAsync("data/"))
        {
            await o.WriteAsync(Bytes("different"));
            await Assert.ThrowsAsync<ObjectExistsException>(() => o.CommitAsync("data/cd/x"));
        }
        await using (var o = await staged.BeginPutAsync("data/"))
        {
            await o.WriteAsync(Bytes("elsewhere"));
            await Assert.ThrowsAsync<InvalidObjectNameException>(() => o.CommitAsync("index/x"));
        }
        Assert.Equal(Bytes("same"), await Store.GetAsync("data/cd/x"));
        Assert.Equal(["data/cd/x"], await ListAsync(""));
    }

    private async Task<List<string>> ListAsync(string prefix)
    {
        var names = new List<string>();
        await foreach (var o in Store.ListAsync(prefix)) names.Add(o.Name);
        names.Sort(StringComparer.Ordinal);
        return names;
    }
}
