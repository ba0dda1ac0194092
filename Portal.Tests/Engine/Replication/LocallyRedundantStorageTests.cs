using System.Security.Cryptography;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Replication;

/// <summary>LRS faults on real folders: copies lost or damaged are read around, healed and reported.</summary>
public sealed class LocallyRedundantStorageTests : IDisposable
{
    private readonly EngineTestKit kit = new();
    private readonly ReplicaSet set;

    public LocallyRedundantStorageTests() => set = new ReplicaSet(Path.Combine(kit.Root, "region"));

    public void Dispose() => kit.Dispose();

    private async Task<(BackupEngine Engine, string Snapshot)> BackUpAsync()
    {
        kit.WriteMixedTree();
        kit.Write("big.bin", EngineTestKit.Random(3_000_000, 7));
        var engine = await BackupEngine.InitAsync(set.Store, EngineTestKit.Passphrase, EngineTestKit.Options);
        var backup = await engine.BackupAsync(new BackupRequest(kit.Source));
        return (engine, backup.SnapshotId);
    }

    private async Task<string> RestoreAsync(BackupEngine engine)
    {
        var target = kit.NewTarget();
        var result = await engine.RestoreAsync(new RestoreRequest("latest", target));
        Assert.Empty(result.Errors);
        EngineTestKit.AssertSameTree(kit.Source, target);
        return target;
    }

    [Fact]
    public async Task Every_object_is_written_to_all_three_replicas()
    {
        using var _ = (await BackUpAsync()).Engine;

        var names = set.Names(0, "").Order().ToList();
        Assert.Contains(names, n => n.StartsWith("data/", StringComparison.Ordinal));
        Assert.Equal(names, set.Names(1, "").Order());
        Assert.Equal(names, set.Names(2, "").Order());
    }

    [Fact]
    public async Task A_deleted_or_bit_flipped_copy_is_read_around_and_healed_by_the_read()
    {
        var (engine, _) = await BackUpAsync();
        using var __ = engine;
        // One pack: missing from the first replica and damaged in the second, so reading it needs the third.
        var packs = set.Names(0, "data").ToList();
        File.Delete(set.PathOf(0, packs[0]));
        var flipped = set.PathOf(1, packs[0]);
        var bytes = await File.ReadAllBytesAsync(flipped);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(flipped, bytes);

        await RestoreAsync(engine);

        Assert.True(File.Exists(set.PathOf(0, packs[0])));
        var healed = await File.ReadAllBytesAsync(flipped);
        Assert.Equal(packs[0][^64..], Convert.ToHexStringLower(SHA256.HashData(healed)));
    }

    [Fact]
    public async Task Scrub_reports_every_divergent_copy_and_heals_it()
    {
        var (engine, _) = await BackUpAsync();
        engine.Dispose();
        var index = set.Names(2, "index").First();
        File.Delete(set.PathOf(2, index));
        var pack = set.Names(0, "data").First();
        await File.WriteAllBytesAsync(set.PathOf(0, pack), [1, 2, 3]);

        var report = await set.Store.ScrubAsync();

        Assert.Equal(2, report.Healed);
        Assert.Contains(report.Issues, i => i.Name == index && i.Replica == 2 && i.Problem == "missing");
        Assert.Contains(report.Issues, i => i.Name == pack && i.Replica == 0 && i.Problem.StartsWith("damaged", StringComparison.Ordinal));
        Assert.Empty(report.Lost);
        Assert.True((await set.Store.ScrubAsync()).Clean);
    }

    [Fact]
    public async Task With_two_replicas_lost_everything_is_still_restorable()
    {
        var (engine, _) = await BackUpAsync();
        engine.Dispose();
        Directory.Delete(set.Folders[0], recursive: true);
        Directory.Delete(set.Folders[2], recursive: true);

        using var reopened = await BackupEngine.OpenAsync(set.Store, EngineTestKit.Passphrase, EngineTestKit.Options);
        await RestoreAsync(reopened);
    }

    [Fact]
    public async Task A_pack_lost_on_all_three_replicas_is_named_with_the_recovery_points_and_files_it_breaks()
    {
        var (engine, snapshot) = await BackUpAsync();
        using var _ = engine;
        var packs = set.Names(0, "data").ToList();
        foreach (var i in Enumerable.Range(0, 3))
            File.Delete(set.PathOf(i, packs[0]));

        var check = await engine.CheckAsync(readData: true);

        var problem = Assert.Single(check.Problems, p => p.ObjectName == packs[0]);
        Assert.Equal([snapshot], problem.Snapshots);
        Assert.NotEmpty(problem.Files);
    }

    [Fact]
    public async Task A_put_with_one_replica_down_succeeds_is_queued_for_repair_and_repaired_when_it_returns()
    {
        set.Replicas[1].Down = true;
        var name = "keys/" + Convert.ToHexStringLower(SHA256.HashData([9]));

        await set.Store.PutAsync(name, new byte[] { 9 });

        var issue = Assert.Single(await set.Store.ListPendingRepairsAsync());
        Assert.Equal(1, issue.Replica);
        Assert.Contains("unreachable", issue.Problem);
        set.Replicas[1].Down = false;
        Assert.Equal(1, await set.Store.RepairPendingAsync());
        Assert.Empty(await set.Store.ListPendingRepairsAsync());
        Assert.Equal([9], await File.ReadAllBytesAsync(set.PathOf(1, name)));
    }

    [Fact]
    public async Task A_put_that_reaches_only_one_replica_fails()
    {
        set.Replicas[0].Down = true;
        set.Replicas[2].Down = true;

        var error = await Assert.ThrowsAsync<StoreException>(() => set.Store.PutAsync("keys/k", new byte[] { 9 }));

        Assert.Contains("Only 1 of 3 replicas stored 'keys/k'", error.Message);
    }

    [Fact]
    public async Task Writing_an_object_again_replaces_a_damaged_copy_instead_of_failing()
    {
        var data = EngineTestKit.Random(10_000, 5);
        var name = "data/aa/" + Convert.ToHexStringLower(SHA256.HashData(data));
        await set.Store.PutAsync(name, data);
        await File.WriteAllBytesAsync(set.PathOf(2, name), [1, 2, 3]);

        await set.Store.PutAsync(name, data);

        Assert.Equal(data, await File.ReadAllBytesAsync(set.PathOf(2, name)));
        Assert.Empty(await set.Store.ListPendingRepairsAsync());
    }

    private string[] FilesIn(int replica, string folder) =>
        Directory.Exists(Path.Combine(set.Folders[replica], folder))
            ? Directory.GetFiles(Path.Combine(set.Folders[replica], folder), "*", SearchOption.AllDirectories)
            : [];

    [Fact]
    public async Task A_staged_object_appears_on_every_replica_only_when_committed()
    {
        var data = EngineTestKit.Random(300_000, 11);
        var name = "data/" + Convert.ToHexStringLower(SHA256.HashData(data))[..2] + "/" + Convert.ToHexStringLower(SHA256.HashData(data));
        Assert.True(set.Store.CanStage);

        await using (var staged = await set.Store.BeginPutAsync("data/"))
        {
            await staged.WriteAsync(data.AsMemory(0, 100_000));
            await staged.WriteAsync(data.AsMemory(100_000));
            Assert.All(Enumerable.Range(0, 3), r => Assert.Empty(set.Names(r, "data")));
            await staged.CommitAsync(name);
        }

        Assert.All(Enumerable.Range(0, 3), r => Assert.Equal(data, File.ReadAllBytes(set.PathOf(r, name))));
        Assert.All(Enumerable.Range(0, 3), r => Assert.Equal([set.PathOf(r, name)], FilesIn(r, "data"))); // no temporary file left behind
        Assert.Empty(await set.Store.ListPendingRepairsAsync());

        // Abandoned (never committed): nothing appears, nothing is left behind.
        await using (var abandoned = await set.Store.BeginPutAsync("data/"))
            await abandoned.WriteAsync(data);
        Assert.All(Enumerable.Range(0, 3), r => Assert.Equal([set.PathOf(r, name)], FilesIn(r, "data")));
    }

    [Fact]
    public async Task A_replica_lost_in_the_middle_of_a_staged_put_is_journaled_and_repaired_when_it_returns()
    {
        var data = EngineTestKit.Random(200_000, 12);
        var name = "index/" + Convert.ToHexStringLower(SHA256.HashData(data));

        await using (var staged = await set.Store.BeginPutAsync("index/"))
        {
            await staged.WriteAsync(data.AsMemory(0, 50_000));
            set.Replicas[2].Down = true;
            await staged.WriteAsync(data.AsMemory(50_000));
            await staged.CommitAsync(name);
        }

        Assert.False(File.Exists(set.PathOf(2, name)));
        var issue = Assert.Single(await set.Store.ListPendingRepairsAsync());
        Assert.Equal((name, 2), (issue.Name, issue.Replica));
        set.Replicas[2].Down = false;
        Assert.Equal(1, await set.Store.RepairPendingAsync());
        Assert.Equal(data, await File.ReadAllBytesAsync(set.PathOf(2, name)));
    }

    [Fact]
    public async Task A_staged_put_that_keeps_only_one_replica_fails_and_leaves_nothing()
    {
        var data = EngineTestKit.Random(50_000, 13);
        var name = "index/" + Convert.ToHexStringLower(SHA256.HashData(data));
        set.Replicas[0].Down = true;

        await using (var staged = await set.Store.BeginPutAsync("index/"))
        {
            set.Replicas[1].Down = true;
            var error = await Assert.ThrowsAsync<StoreException>(async () => await staged.WriteAsync(data));
            Assert.True(error.IsTransient);
            Assert.Contains("Only 1 of 3 replicas could store", error.Message);
        }

        Assert.All(Enumerable.Range(0, 3), r => Assert.Empty(FilesIn(r, "index"))); // not even a temporary file
        Assert.Empty(await set.Store.ListPendingRepairsAsync());
    }

    [Fact]
    public async Task A_staged_put_over_a_damaged_copy_stores_the_others_and_journals_the_damaged_one_for_repair()
    {
        var data = EngineTestKit.Random(10_000, 14);
        var name = "snapshots/" + Convert.ToHexStringLower(SHA256.HashData(data));
        await set.Store.PutAsync(name, data);
        await File.WriteAllBytesAsync(set.PathOf(1, name), [1, 2, 3]);

        await using (var staged = await set.Store.BeginPutAsync("snapshots/"))
        {
            await staged.WriteAsync(data);
            await staged.CommitAsync(name);
        }

        var issue = Assert.Single(await set.Store.ListPendingRepairsAsync());
        Assert.Equal(1, issue.Replica);
        Assert.Contains("damaged copy", issue.Problem);
        Assert.Equal(1, await set.Store.RepairPendingAsync());
        Assert.Equal(data, await File.ReadAllBytesAsync(set.PathOf(1, name)));
    }
}
