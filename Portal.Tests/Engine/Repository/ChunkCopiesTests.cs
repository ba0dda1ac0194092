using Portal.Engine;
using Portal.Engine.Crypto;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Engine.Repository;
using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Repository;

/// <summary>
/// Every known copy of a chunk is kept and tried (restore, check and prune), a stale index object that reappears
/// harms nothing, `repair index` rebuilds the index from the packs, and `repair snapshots` leaves out only the files
/// whose data is truly gone. Real folders and real packs. Issue 23.
/// </summary>
public sealed class ChunkCopiesTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private string DataDir => Path.Combine(_kit.RepoDir, "data");
    private string IndexDir => Path.Combine(_kit.RepoDir, "index");
    private string[] Packs() => Directory.GetFiles(DataDir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Stores a second copy of every chunk and listing in new packs with their own index, as two backups running at once would.</summary>
    private async Task<string[]> StoreSecondCopyAsync()
    {
        using var repo = await Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, TimeProvider.System, "test", default);
        var index = await MasterIndex.LoadAsync(repo, default);
        var before = Packs();
        var copies = new MasterIndex();
        await using (var writer = new PackWriter(repo, copies))
        {
            foreach (var (id, pack, loc) in index.Snapshot())
                await writer.AddAsync(id, loc.Type, await repo.Store.GetRangeAsync(Repo.PackName(pack), loc.Offset, (int)loc.Length), default);
            await writer.FlushAsync(default);
            await repo.SaveIndexAsync(writer.TakeWritten(), default);
        }
        return Packs().Except(before).ToArray();
    }

    private static void Flip(string file)
    {
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 3] ^= 0x55;
        File.WriteAllBytes(file, bytes);
    }

    private async Task AssertRestoresAsync(BackupEngine engine, params (string Path, byte[] Data)[] files)
    {
        var target = _kit.NewTarget();
        var r = await engine.RestoreAsync(new RestoreRequest("latest", target));
        Assert.True(r.Status == OperationStatus.Completed, string.Join("\n", r.Errors));
        foreach (var (path, data) in files) Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(target, path)));
    }

    [Theory]
    [InlineData("first", "delete")]
    [InlineData("first", "flip")]
    [InlineData("second", "delete")]
    [InlineData("second", "flip")]
    public async Task When_one_copy_is_missing_or_damaged_restore_check_and_prune_use_the_other(string which, string how)
    {
        var data = EngineTestKit.Random(3 * 1024 * 1024, 7);
        _kit.Write("big.bin", data);
        _kit.Write("small.txt", "small");
        using (var engine = await _kit.InitAsync()) await engine.BackupAsync(new BackupRequest(_kit.Source));
        var first = Packs(); // chunks and folder listings
        var second = await StoreSecondCopyAsync();
        foreach (var victim in which == "first" ? first : second)
        {
            if (how == "delete") File.Delete(victim);
            else Flip(victim);
        }

        using var opened = await _kit.OpenAsync();
        await AssertRestoresAsync(opened, ("big.bin", data), ("small.txt", "small"u8.ToArray()));
        var check = await opened.CheckAsync(readData: true);
        Assert.True(check.IsHealthy, string.Join("\n", check.Problems.Select(p => p.ObjectName + ": " + p.Problem)));
        Assert.Contains(check.Notes, n => n.Contains("has a good copy in another pack") && n.Contains("repair index"));

        await opened.PruneAsync(); // a missing pack's entries leave the index; a flipped duplicate is unused and goes
        await AssertRestoresAsync(opened, ("big.bin", data), ("small.txt", "small"u8.ToArray()));
        var after = await opened.CheckAsync(readData: true);
        Assert.True(after.IsHealthy, string.Join("\n", after.Problems.Select(p => p.ObjectName + ": " + p.Problem)));
        Assert.DoesNotContain(after.Notes, n => n.Contains("good copy in another pack"));
    }

    [Fact]
    public async Task An_index_object_from_before_a_prune_that_reappears_harms_neither_prune_nor_restore_and_repair_index_drops_it()
    {
        var kept = EngineTestKit.Random(2 * 1024 * 1024, 1);
        _kit.Write("kept.bin", kept);
        _kit.Write("dropped.bin", EngineTestKit.Random(2 * 1024 * 1024, 2));
        using var engine = await _kit.InitAsync();
        var old = await engine.BackupAsync(new BackupRequest(_kit.Source));
        var oldIndex = Directory.GetFiles(IndexDir).ToDictionary(f => f, File.ReadAllBytes);
        File.Delete(Path.Combine(_kit.Source, "dropped.bin"));
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        await engine.ForgetAsync([old.SnapshotId]);
        var pruned = await engine.PruneAsync();
        Assert.True(pruned.PacksRepacked >= 1); // the chunks of kept.bin moved to a new pack, the old pack is gone

        foreach (var (name, bytes) in oldIndex) await File.WriteAllBytesAsync(name, bytes); // an old copy comes back
        using var reopened = await _kit.OpenAsync();
        await AssertRestoresAsync(reopened, ("kept.bin", kept));
        var check = await reopened.CheckAsync();
        Assert.True(check.IsHealthy, string.Join("\n", check.Problems.Select(p => p.ObjectName + ": " + p.Problem)));
        await reopened.PruneAsync(); // used to stop with "object does not exist"
        await AssertRestoresAsync(reopened, ("kept.bin", kept));

        foreach (var (name, bytes) in oldIndex) await File.WriteAllBytesAsync(name, bytes); // and once more
        var repaired = await reopened.RepairIndexAsync();
        Assert.Equal(Packs().Length, repaired.PacksIndexed);
        Assert.Empty(repaired.Unreadable);
        Assert.Single(Directory.GetFiles(IndexDir));
        using var fresh = await _kit.OpenAsync();
        var clean = await fresh.CheckAsync(readData: true);
        Assert.True(clean.IsHealthy);
        Assert.Empty(clean.Notes);
        await AssertRestoresAsync(fresh, ("kept.bin", kept));
    }

    [Fact]
    public async Task Repair_index_rebuilds_a_lost_index_from_the_packs()
    {
        var data = EngineTestKit.Random(1024 * 1024, 3);
        _kit.Write("a.bin", data);
        using (var engine = await _kit.InitAsync()) await engine.BackupAsync(new BackupRequest(_kit.Source));
        foreach (var f in Directory.GetFiles(IndexDir)) File.Delete(f);
        using var opened = await _kit.OpenAsync();
        Assert.False((await opened.CheckAsync()).IsHealthy);

        var r = await opened.RepairIndexAsync();
        Assert.Equal(Packs().Length, r.PacksIndexed);
        Assert.Equal(0, r.OldIndexesRemoved);
        using var fresh = await _kit.OpenAsync();
        Assert.True((await fresh.CheckAsync(readData: true)).IsHealthy);
        await AssertRestoresAsync(fresh, ("a.bin", data));
    }

    [Fact]
    public async Task Repair_snapshots_leaves_out_only_the_files_whose_data_is_gone_and_marks_the_snapshot()
    {
        _kit.Write("a.txt", "from the first backup");
        using var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source));
        var packsOfFirst = Packs();
        var big = EngineTestKit.Random(40 * 1024 * 1024, 4); // more than two packs of chunks
        _kit.Write("docs/big.bin", big);
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        var packsOfSecond = Packs();
        _kit.Write("docs/note.txt", "a note");
        var keep = new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero); // an immutable vault's point: its floor survives the repair
        await engine.BackupAsync(new BackupRequest(_kit.Source) { KeepUntil = keep });

        // Lose a pack of the second backup that holds only chunks of big.bin (no folder listing).
        using (var repo = await Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, TimeProvider.System, "test", default))
        {
            var index = await MasterIndex.LoadAsync(repo, default);
            var lost = index.Snapshot().GroupBy(b => b.Pack)
                .First(g => packsOfSecond.Except(packsOfFirst).Contains(Path.Combine(_kit.RepoDir, Repo.PackName(g.Key))) && g.All(b => b.Location.Type == Repo.DataBlob));
            File.Delete(Path.Combine(_kit.RepoDir, Repo.PackName(lost.Key)));
        }
        Assert.False((await engine.CheckAsync()).IsHealthy);

        await engine.RepairIndexAsync();
        var r = await engine.RepairSnapshotsAsync();
        Assert.Equal(2, r.Repaired.Count); // the second and third backups both had big.bin
        Assert.All(r.Repaired, s => Assert.Equal(["docs/big.bin"], s.Removed));
        Assert.Empty(r.Unrepairable);
        var snapshots = await engine.ListSnapshotsAsync();
        var repaired = r.Repaired.Single(s => s.NewId == snapshots[^1].Id); // the latest keeps its time
        Assert.Equal(3, snapshots.Count);
        Assert.Contains(snapshots, s => s.Id == first.SnapshotId && !s.Tags.Contains("repaired")); // untouched
        Assert.Contains(snapshots, s => s.Id == repaired.NewId && s.Tags.Contains("repaired") && s.KeepUntil == keep);
        var check = await engine.CheckAsync(readData: true);
        Assert.True(check.IsHealthy, string.Join("\n", check.Problems.Select(p => p.ObjectName + ": " + p.Problem)));
        var target = _kit.NewTarget();
        var restored = await engine.RestoreAsync(new RestoreRequest(repaired.NewId, target));
        Assert.Equal(OperationStatus.Completed, restored.Status);
        Assert.Equal("from the first backup", await File.ReadAllTextAsync(Path.Combine(target, "a.txt")));
        Assert.Equal("a note", await File.ReadAllTextAsync(Path.Combine(target, "docs", "note.txt")));
        Assert.False(File.Exists(Path.Combine(target, "docs", "big.bin")));

        Assert.Empty((await engine.RepairSnapshotsAsync()).Repaired); // nothing more to do
    }
}
