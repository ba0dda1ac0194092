using Portal.Engine;
using Portal.Engine.Crypto;
using Portal.Engine.Operations;
using Portal.Engine.Repository;

namespace Portal.Tests.Engine.Operations;

/// <summary>
/// Checks that each read a window of the packs (restic's --read-data-subset, in name order with a byte budget): one pass
/// of windows reads every pack exactly once, and damage is found by the window that reads it, named with its files.
/// Issue 22's scheduled verification.
/// </summary>
public sealed class RotatingCheckTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    /// <summary>Six backups, each adding one file: at least six packs.</summary>
    private async Task<BackupEngine> BackUpSixTimesAsync()
    {
        var engine = await _kit.InitAsync();
        for (var i = 0; i < 6; i++)
        {
            _kit.Write($"file-{i}.bin", EngineTestKit.Random(100_000, 40 + i));
            await engine.BackupAsync(new BackupRequest(_kit.Source));
        }
        return engine;
    }

    /// <summary>Windowed checks from the start of a pass until one completes it.</summary>
    private static async Task<List<CheckResult>> PassAsync(BackupEngine engine, double share, long maxBytes)
    {
        var runs = new List<CheckResult>();
        string? after = null;
        do
        {
            var run = await engine.CheckAsync(new CheckOptions { Window = new ReadDataWindow(after, share, maxBytes) });
            runs.Add(run);
            after = run.DataRead!.Next;
            Assert.True(runs.Count <= 100, "the pass never completes");
        }
        while (!runs[^1].DataRead!.PassCompleted);
        return runs;
    }

    [Fact]
    public async Task A_pass_of_windows_reads_every_pack_once_within_its_share()
    {
        using var engine = await BackUpSixTimesAsync();
        var full = await engine.CheckAsync(readData: true);

        var runs = await PassAsync(engine, share: 1.0 / 3, maxBytes: long.MaxValue);

        var total = runs[0].DataRead!;
        Assert.True(total.PacksTotal >= 6, $"{total.PacksTotal} packs");
        Assert.InRange(runs.Count, 2, 3); // a third of the bytes (or more, to the end of a pack) each night
        Assert.Equal(total.PacksTotal, runs.Sum(r => r.DataRead!.PacksRead));
        Assert.Equal(total.BytesTotal, runs.Sum(r => r.DataRead!.BytesRead));
        Assert.Equal(full.BlobsVerified, runs.Sum(r => r.BlobsVerified)); // every blob verified once in the pass
        Assert.All(runs, r => Assert.True(r.IsHealthy));
        Assert.Null(runs[^1].DataRead!.Next);
    }

    [Fact]
    public async Task A_byte_budget_smaller_than_a_pack_still_reads_one_pack_a_run()
    {
        using var engine = await BackUpSixTimesAsync();

        var runs = await PassAsync(engine, share: 1.0 / 30, maxBytes: 1);

        Assert.All(runs, r => Assert.Equal(1, r.DataRead!.PacksRead));
        Assert.Equal(runs[0].DataRead!.PacksTotal, runs.Count);
    }

    [Fact]
    public async Task A_flipped_byte_is_found_by_the_window_that_reads_its_pack_and_names_the_file()
    {
        using var engine = await BackUpSixTimesAsync();
        using (var repo = await Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, TimeProvider.System, "test", default))
        {
            var index = await MasterIndex.LoadAsync(repo, default);
            var snap = await SnapshotCatalog.ResolveAsync(repo, "latest", default);
            var tree = await index.LoadTreeAsync(repo, BlobId.Parse(snap.Snapshot.Tree), default);
            Assert.True(index.TryGet(BlobId.Parse(tree.Nodes.Single(n => n.Name == "file-2.bin").Content![0]), out var loc, out var pack));
            var path = Path.Combine(_kit.RepoDir, Repo.PackName(pack));
            var bytes = await File.ReadAllBytesAsync(path);
            bytes[loc.Offset + loc.Length / 2] ^= 0x01;
            await File.WriteAllBytesAsync(path, bytes);
        }
        Assert.True((await engine.CheckAsync()).IsHealthy); // the structure cannot tell

        var runs = await PassAsync(engine, share: 1.0 / 4, maxBytes: long.MaxValue);

        var failed = Assert.Single(runs, r => !r.IsHealthy);
        var problem = Assert.Single(failed.Problems);
        Assert.StartsWith("data/", problem.ObjectName);
        Assert.Contains(problem.Files, f => f.EndsWith(":file-2.bin", StringComparison.Ordinal));
        Assert.Equal(4, problem.Snapshots.Count); // every point from the third backup on holds file-2.bin
    }

    [Fact]
    public async Task Subsets_one_to_m_of_m_read_every_pack_once_as_restic_read_data_subset_does()
    {
        using var engine = await BackUpSixTimesAsync();
        var full = await engine.CheckAsync(readData: true);

        var subsets = new List<CheckResult>();
        for (var n = 1; n <= 3; n++)
            subsets.Add(await engine.CheckAsync(new CheckOptions { Subset = new ReadDataSubset(n, 3) }));

        Assert.All(subsets, s => Assert.True(s.IsHealthy));
        Assert.Equal(full.BlobsVerified, subsets.Sum(s => s.BlobsVerified));
    }
}
