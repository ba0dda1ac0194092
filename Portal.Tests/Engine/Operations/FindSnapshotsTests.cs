using Portal.Engine.Operations;
using Portal.Engine.Progress;

namespace Portal.Tests.Engine.Operations;

/// <summary>A retried backup job finds the snapshot its earlier attempt wrote by the job's tag, instead of backing up again.</summary>
public sealed class FindSnapshotsTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task Snapshots_are_found_by_an_exact_tag_and_an_unknown_tag_finds_none()
    {
        _kit.Write("a.txt", "one");
        using var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source) { Tags = ["item:1", "job:ab"] });
        _kit.Write("b.txt", "two");
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source) { Tags = ["item:1", "job:abc"] });
        var progress = new List<OperationProgress>();

        var found = await engine.FindSnapshotsByTagAsync("job:ab", new SyncProgress<OperationProgress>(progress.Add));

        Assert.Equal(first.SnapshotId, Assert.Single(found).Id);
        Assert.Equal(second.SnapshotId, Assert.Single(await engine.FindSnapshotsByTagAsync("job:abc")).Id);
        Assert.Equal([first.SnapshotId, second.SnapshotId], (await engine.FindSnapshotsByTagAsync("item:1")).Select(s => s.Id));
        Assert.Empty(await engine.FindSnapshotsByTagAsync("job:AB"));
        Assert.Empty(await engine.FindSnapshotsByTagAsync("job:zz"));
        Assert.True(progress[^1] is { IsFinal: true, FilesDone: 1, FilesTotal: 1 });
    }
}
