using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Repository;

namespace Portal.Tests.Engine.Operations;

/// <summary>A folder whose entries all match the parent snapshot keeps the parent's tree; any change still reaches the new one.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class IncrementalTreeTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private async Task<string> RootTreeAsync(string snapshotId)
    {
        using var repo = await Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, TimeProvider.System, "test", default);
        return (await SnapshotCatalog.ResolveAsync(repo, snapshotId, default)).Snapshot.Tree;
    }

    [Fact]
    public async Task A_no_change_backup_stores_the_same_trees_and_adds_nothing()
    {
        _kit.WriteMixedTree();
        using var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source));
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal(0, second.FilesRead);
        Assert.Equal(0, second.BlobsAdded);
        Assert.Equal(await RootTreeAsync(first.SnapshotId), await RootTreeAsync(second.SnapshotId));
    }

    [Fact]
    public async Task Metadata_changes_deep_in_unchanged_folders_reach_the_new_snapshot()
    {
        _kit.WriteMixedTree();
        using var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source));

        // Same contents; only modes, a time and a symlink target change, each in a different folder.
        File.SetUnixFileMode(Path.Combine(_kit.Source, "deep/a/b"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetLastWriteTimeUtc(Path.Combine(_kit.Source, "deep/a/b/c/d/leaf.txt"), new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc));
        File.SetUnixFileMode(Path.Combine(_kit.Source, "docs/.hidden"), UnixFileMode.UserRead);
        File.Delete(Path.Combine(_kit.Source, "docs/link-to-readme"));
        File.CreateSymbolicLink(Path.Combine(_kit.Source, "docs/link-to-readme"), ".hidden");
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.NotEqual(await RootTreeAsync(first.SnapshotId), await RootTreeAsync(second.SnapshotId));

        var target = _kit.NewTarget();
        var restored = await engine.RestoreAsync(new RestoreRequest(second.SnapshotId, target));
        Assert.Empty(restored.Errors);
        EngineTestKit.AssertSameTree(_kit.Source, target);
        Assert.Equal(File.GetUnixFileMode(Path.Combine(_kit.Source, "deep/a/b")), File.GetUnixFileMode(Path.Combine(target, "deep/a/b")));
    }
    [Fact]
    public async Task Folders_removed_added_and_alike_among_many_siblings_keep_every_unchanged_file_unread()
    {
        // More sibling folders than the walk reads ahead, runs of removed ones longer than that, empty folders that
        // share one tree, and new folders in between: every unchanged file still finds its parent node.
        for (var i = 0; i < 30; i++)
        {
            _kit.Write($"s/d{i:D2}/f.txt", $"file {i}");
            Directory.CreateDirectory(Path.Combine(_kit.Source, $"s/d{i:D2}/empty"));
        }
        using var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal(30, first.FilesRead);

        for (var i = 3; i < 12; i++) Directory.Delete(Path.Combine(_kit.Source, $"s/d{i:D2}"), recursive: true);
        _kit.Write("s/d12a/new.txt", "new");
        _kit.Write("s/d20/f.txt", "changed, and longer");
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal((2, 20), (second.FilesRead, second.FilesUnchanged));

        var target = _kit.NewTarget();
        await engine.RestoreAsync(new RestoreRequest(second.SnapshotId, target));
        EngineTestKit.AssertSameTree(_kit.Source, target);
    }
}
