using Portal.Engine;
using Portal.Engine.Crypto;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Tests.Engine.Operations;

/// <summary>Flipped bytes, truncated and missing objects: check names them and what they affect; the rest restores.</summary>
public sealed class DamageTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private async Task<(BackupEngine Engine, string SnapshotId, string PackPath, long Offset)> BackupAndLocateAsync()
    {
        _kit.Write("victim.bin", EngineTestKit.Random(200_000, 21));
        _kit.Write("bystander.bin", EngineTestKit.Random(200_000, 22));
        _kit.Write("notes.txt", "other data");
        var engine = await _kit.InitAsync();
        var backup = await engine.BackupAsync(new BackupRequest(_kit.Source));
        using var repo = await Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, TimeProvider.System, "test", default);
        var index = await MasterIndex.LoadAsync(repo, default);
        var snap = await SnapshotCatalog.ResolveAsync(repo, backup.SnapshotId, default);
        var tree = await index.LoadTreeAsync(repo, BlobId.Parse(snap.Snapshot.Tree), default);
        var victim = tree.Nodes.Single(n => n.Name == "victim.bin");
        Assert.True(index.TryGet(BlobId.Parse(victim.Content![0]), out var loc, out var pack));
        var path = Path.Combine(_kit.RepoDir, Repo.PackName(pack));
        return (engine, backup.SnapshotId, path, loc.Offset + loc.Length / 2);
    }

    [Fact]
    public async Task A_flipped_byte_in_a_pack_is_named_by_check_and_only_the_affected_file_fails_to_restore()
    {
        var (engine, snapshotId, packPath, offset) = await BackupAndLocateAsync();
        using var _ = engine;
        var bytes = await File.ReadAllBytesAsync(packPath);
        bytes[offset] ^= 0x01;
        await File.WriteAllBytesAsync(packPath, bytes);

        var check = await engine.CheckAsync(readData: true);
        var problem = Assert.Single(check.Problems);
        Assert.Equal(Path.GetRelativePath(_kit.RepoDir, packPath), problem.ObjectName);
        Assert.Equal([snapshotId], problem.Snapshots);
        Assert.Equal([$"{snapshotId[..8]}:victim.bin"], problem.Files);

        var target = _kit.NewTarget();
        var restore = await engine.RestoreAsync(new RestoreRequest("latest", target));
        Assert.Equal(OperationStatus.Failed, restore.Status);
        var error = Assert.Single(restore.Errors);
        Assert.StartsWith("victim.bin: not restored: Damaged object 'data/", error);
        Assert.Contains("fails authentication", error);
        Assert.False(File.Exists(Path.Combine(target, "victim.bin")));
        Assert.Empty(Directory.GetFiles(target, ".portal-restore-*"));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_kit.Source, "bystander.bin")), await File.ReadAllBytesAsync(Path.Combine(target, "bystander.bin")));
        Assert.Equal("other data", await File.ReadAllTextAsync(Path.Combine(target, "notes.txt")));
    }

    [Fact]
    public async Task Damage_shared_by_two_snapshots_names_both()
    {
        var (engine, first, packPath, offset) = await BackupAndLocateAsync();
        using var _ = engine;
        _kit.Write("later.txt", "only in the second snapshot");
        var second = (await engine.BackupAsync(new BackupRequest(_kit.Source))).SnapshotId;
        var bytes = await File.ReadAllBytesAsync(packPath);
        bytes[offset] ^= 0x80;
        await File.WriteAllBytesAsync(packPath, bytes);

        var problem = Assert.Single((await engine.CheckAsync(readData: true)).Problems);
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), problem.Snapshots);
        Assert.Equal(new[] { $"{first[..8]}:victim.bin", $"{second[..8]}:victim.bin" }.Order(StringComparer.Ordinal), problem.Files.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_truncated_pack_is_found_without_reading_data()
    {
        var (engine, snapshotId, packPath, _) = await BackupAndLocateAsync();
        using var __ = engine;
        await using (var fs = new FileStream(packPath, FileMode.Open)) fs.SetLength(fs.Length / 2);

        var check = await engine.CheckAsync(readData: false);
        var problem = Assert.Single(check.Problems);
        Assert.Contains("truncated", problem.Problem);
        Assert.Contains(problem.Files, f => f.StartsWith(snapshotId[..8], StringComparison.Ordinal));

        var restore = await engine.RestoreAsync(new RestoreRequest("latest", _kit.NewTarget()));
        Assert.Equal(OperationStatus.Failed, restore.Status);
        Assert.All(restore.Errors, e => Assert.Contains("truncated", e));
    }

    [Fact]
    public async Task A_missing_pack_is_named_with_what_it_held()
    {
        var (engine, snapshotId, packPath, _) = await BackupAndLocateAsync();
        using var __ = engine;
        File.Delete(packPath);

        var check = await engine.CheckAsync();
        var problem = Assert.Single(check.Problems);
        Assert.Equal("the pack is missing.", problem.Problem);
        // Named by what it held: the root's folder listing (then the whole root is affected) or victim.bin's chunks
        // (each backup worker fills a pack of its own, so the listing may be in the other pack).
        var id = snapshotId[..8];
        Assert.True(problem.Files.SequenceEqual([$"{id}:/ (folder listing)"]) || problem.Files.Contains($"{id}:victim.bin"), string.Join(", ", problem.Files));
        var restore = await engine.RestoreAsync(new RestoreRequest("latest", _kit.NewTarget()));
        Assert.Contains(restore.Errors, e => e.Contains("missing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_truncated_snapshot_manifest_is_reported_and_other_snapshots_stay_usable()
    {
        var (engine, snapshotId, _, _) = await BackupAndLocateAsync();
        using var __ = engine;
        _kit.Write("later.txt", "second backup");
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));
        var manifest = Path.Combine(_kit.RepoDir, "snapshots", snapshotId);
        await File.WriteAllBytesAsync(manifest, (await File.ReadAllBytesAsync(manifest))[..10]);

        var check = await engine.CheckAsync();
        Assert.Equal($"snapshots/{snapshotId}", Assert.Single(check.Problems).ObjectName);
        Assert.Equal([second.SnapshotId], (await engine.ListSnapshotsAsync()).Select(s => s.Id));
        var restore = await engine.RestoreAsync(new RestoreRequest(second.SnapshotId, _kit.NewTarget()));
        Assert.Equal(OperationStatus.Completed, restore.Status);
        await Assert.ThrowsAsync<RepositoryException>(() => engine.PruneAsync());
    }

    [Fact]
    public async Task A_lost_index_is_rebuilt_from_pack_headers_by_the_next_backup()
    {
        var (engine, _, _, _) = await BackupAndLocateAsync();
        using var __ = engine;
        foreach (var f in Directory.GetFiles(Path.Combine(_kit.RepoDir, "index"))) File.Delete(f);
        Assert.False((await engine.CheckAsync()).IsHealthy);

        var next = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal(0, next.BytesAdded);
        Assert.True((await engine.CheckAsync(readData: true)).IsHealthy);
        var restore = await engine.RestoreAsync(new RestoreRequest("latest", _kit.NewTarget()));
        Assert.Equal(OperationStatus.Completed, restore.Status);
    }
}
