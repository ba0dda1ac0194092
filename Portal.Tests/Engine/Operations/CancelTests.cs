using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Tests.Engine.Storage;

namespace Portal.Tests.Engine.Operations;

public sealed class CancelTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Cancel_mid_backup_leaves_a_consistent_repository_and_the_next_backup_reuses_stored_packs(bool stagedPacks)
    {
        for (var i = 0; i < 40; i++) _kit.Write($"data/{i:00}.bin", EngineTestKit.Random(1024 * 1024, 100 + i));
        var store = HookedStore.Create(_kit.Store, stagedPacks);
        using (await BackupEngine.InitAsync(store, EngineTestKit.Passphrase, EngineTestKit.Options)) { }
        using var cts = new CancellationTokenSource();
        store.AfterPut = name =>
        {
            if (name.StartsWith("data/", StringComparison.Ordinal)) cts.Cancel(); // right after the first full pack
            return Task.CompletedTask;
        };
        using (var engine = await BackupEngine.OpenAsync(store, EngineTestKit.Passphrase, EngineTestKit.Options))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.BackupAsync(new BackupRequest(_kit.Source), null, cts.Token));
        store.AfterPut = null;

        using var again = await BackupEngine.OpenAsync(store, EngineTestKit.Passphrase, EngineTestKit.Options);
        Assert.Empty(await again.ListSnapshotsAsync());
        var check = await again.CheckAsync(readData: true);
        Assert.True(check.IsHealthy, string.Join("; ", check.Problems.Select(p => p.Problem)));
        Assert.Empty(check.Notes); // the stored pack was indexed on the way out
        Assert.Empty(Directory.GetFiles(Path.Combine(_kit.RepoDir, "locks")));
        Assert.Empty(Directory.GetFiles(_kit.RepoDir, "#tmp-*", SearchOption.AllDirectories)); // no staged leftovers
        var storedBefore = _kit.StoredBytes();
        Assert.True(storedBefore >= 16 * 1024 * 1024);

        var r = await again.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal(OperationStatus.Completed, r.Status);
        Assert.True(r.BytesAdded <= 40L * 1024 * 1024 - storedBefore + 1024 * 1024, $"added {r.BytesAdded} after {storedBefore} were stored");
        var target = _kit.NewTarget();
        await again.RestoreAsync(new RestoreRequest("latest", target));
        EngineTestKit.AssertSameTree(_kit.Source, target);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_failing_store_fails_the_backup_without_a_snapshot(bool stagedPacks)
    {
        _kit.Write("a.bin", EngineTestKit.Random(100_000, 5));
        var store = HookedStore.Create(_kit.Store, stagedPacks);
        using var engine = await BackupEngine.InitAsync(store, EngineTestKit.Passphrase, EngineTestKit.Options);
        store.BeforePut = name => name.StartsWith("data/", StringComparison.Ordinal)
            ? new Portal.Engine.Storage.StoreException("injected outage", isTransient: true) : null;
        var e = await Assert.ThrowsAsync<Portal.Engine.Storage.StoreException>(() => engine.BackupAsync(new BackupRequest(_kit.Source)));
        Assert.True(e.IsTransient);
        store.BeforePut = null;
        Assert.Empty(await engine.ListSnapshotsAsync());
        Assert.True((await engine.CheckAsync()).IsHealthy);
        Assert.Empty(Directory.GetFiles(_kit.RepoDir, "#tmp-*", SearchOption.AllDirectories));
    }
}
