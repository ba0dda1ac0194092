using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Replication;
using Portal.Engine.Storage;
using Portal.Tests.Engine.Storage;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Engine.Replication;

/// <summary>GRS: the paired region gets every recovery point, in order, survives outages and restarts, and restores.</summary>
public sealed class GeoRedundantStorageTests : IDisposable
{
    private readonly EngineTestKit kit = new();
    private readonly ReplicaSet primary;

    public GeoRedundantStorageTests() => primary = new ReplicaSet(Path.Combine(kit.Root, "primary"));

    public void Dispose() => kit.Dispose();

    private async Task<BackupEngine> BackUpAsync(BackupEngine? engine = null, int generation = 1)
    {
        if (generation == 1)
            kit.WriteMixedTree();
        kit.Write($"generation-{generation}.bin", EngineTestKit.Random(1_500_000, 100 + generation));
        engine ??= await BackupEngine.InitAsync(primary.Store, EngineTestKit.Passphrase, EngineTestKit.Options);
        await engine.BackupAsync(new BackupRequest(kit.Source));
        return engine;
    }

    private async Task AssertRestoresFromAsync(IObjectStore store, int expectedSnapshots)
    {
        using var engine = await BackupEngine.OpenAsync(store, EngineTestKit.Passphrase, EngineTestKit.Options);
        Assert.Equal(expectedSnapshots, (await engine.ListSnapshotsAsync()).Count);
        var target = kit.NewTarget();
        var result = await engine.RestoreAsync(new RestoreRequest("latest", target));
        Assert.Empty(result.Errors);
        EngineTestKit.AssertSameTree(kit.Source, target);
        Assert.Empty((await engine.CheckAsync(readData: true)).Problems);
    }

    [Fact]
    public async Task The_secondary_gets_every_recovery_point_and_a_cross_region_restore_is_identical_when_the_primary_is_down()
    {
        using var engine = await BackUpAsync();
        var secondary = new LocalDirectoryStore(Path.Combine(kit.Root, "secondary"));
        var replicator = new RegionReplicator(primary.Store, secondary);
        var lag = await replicator.MeasureLagAsync();
        Assert.True(lag.Objects > 3);
        Assert.NotNull(lag.OldestUnreplicatedRecoveryPoint);

        var result = await replicator.ReplicateAsync();

        Assert.Equal(lag.Objects, result.ObjectsCopied);
        Assert.Equal(lag.Bytes, result.BytesCopied);
        Assert.True((await replicator.MeasureLagAsync()).CaughtUp);
        foreach (var replica in primary.Replicas)
            replica.Down = true;
        await AssertRestoresFromAsync(secondary, expectedSnapshots: 1);
    }

    [Fact]
    public async Task Recovery_points_reach_the_secondary_last_and_an_interrupted_pass_resumes_without_copying_twice()
    {
        using var engine = await BackUpAsync();
        await BackUpAsync(engine, generation: 2);
        var puts = new List<string>();
        var secondary = new HookedStore(new LocalDirectoryStore(Path.Combine(kit.Root, "secondary")))
        {
            AfterPut = name =>
            {
                lock (puts) puts.Add(name);
                return Task.CompletedTask;
            },
        };
        var replicator = new RegionReplicator(primary.Store, secondary);
        var total = (await replicator.MeasureLagAsync()).Objects;

        using var crash = new CancellationTokenSource();
        var progress = new SyncProgress<ReplicationProgress>(p => { if (p.ObjectsDone == 3) crash.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => replicator.ReplicateAsync(progress, crash.Token));
        Assert.DoesNotContain(puts, n => n.StartsWith("snapshots/", StringComparison.Ordinal));
        using (var partial = await BackupEngine.OpenAsync(secondary, EngineTestKit.Passphrase, EngineTestKit.Options))
            Assert.Empty(await partial.ListSnapshotsAsync()); // consistent: no recovery point without its data

        var resumed = await new RegionReplicator(primary.Store, secondary).ReplicateAsync();

        Assert.Equal(total, puts.Count);
        Assert.Equal(total - 3, resumed.ObjectsCopied);
        var firstSnapshot = puts.FindIndex(n => n.StartsWith("snapshots/", StringComparison.Ordinal));
        Assert.True(firstSnapshot > puts.FindLastIndex(n => n.StartsWith("data/", StringComparison.Ordinal) || n.StartsWith("index/", StringComparison.Ordinal)));
        await AssertRestoresFromAsync(secondary, expectedSnapshots: 2);
    }

    [Fact]
    public async Task A_secondary_outage_never_fails_a_backup_and_replication_catches_up_afterwards_on_Azurite()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        var secondary = new RetryingStore(AzureBlobStore.FromConnectionString(azurite.ConnectionString, "vault-secondary"),
            new RetryPolicy(MaxRetries: 1, BaseDelay: TimeSpan.FromMilliseconds(10)));
        await AzureBlobStore.FromConnectionString(azurite.ConnectionString, "vault-secondary").CreateContainerIfMissingAsync();
        using var engine = await BackUpAsync();
        var replicator = new RegionReplicator(primary.Store, secondary);
        await replicator.ReplicateAsync();

        await azurite.StopAsync();
        await BackUpAsync(engine, generation: 2);
        var outage = await Assert.ThrowsAsync<StoreException>(() => replicator.ReplicateAsync());
        Assert.True(outage.IsTransient);

        await azurite.RestartAsync();
        var lag = await replicator.MeasureLagAsync();
        Assert.True(lag.Objects >= 2);
        Assert.NotNull(lag.OldestUnreplicatedRecoveryPoint);
        await replicator.ReplicateAsync();
        Assert.True((await replicator.MeasureLagAsync()).CaughtUp);
        await AssertRestoresFromAsync(secondary, expectedSnapshots: 2);
    }

    [Fact]
    public async Task Forgotten_and_pruned_data_leaves_the_secondary_too()
    {
        using var engine = await BackUpAsync();
        var first = (await engine.ListSnapshotsAsync()).Single().Id;
        File.Delete(Path.Combine(kit.Source, "generation-1.bin"));
        await BackUpAsync(engine, generation: 2);
        var secondary = new LocalDirectoryStore(Path.Combine(kit.Root, "secondary"));
        var replicator = new RegionReplicator(primary.Store, secondary);
        await replicator.ReplicateAsync();

        await engine.ForgetAsync([first]);
        await engine.PruneAsync();
        var result = await replicator.ReplicateAsync();

        Assert.True(result.ObjectsRemoved > 0);
        await AssertRestoresFromAsync(secondary, expectedSnapshots: 1);
        var primaryNames = new List<string>();
        await foreach (var o in primary.Store.ListAsync("")) if (!o.Name.StartsWith("locks/", StringComparison.Ordinal)) primaryNames.Add(o.Name);
        var secondaryNames = new List<string>();
        await foreach (var o in secondary.ListAsync("")) secondaryNames.Add(o.Name);
        Assert.Equal(primaryNames.Order(), secondaryNames.Order());
    }
}
