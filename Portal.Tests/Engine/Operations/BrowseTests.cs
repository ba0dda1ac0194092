using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Progress;

namespace Portal.Tests.Engine.Operations;

public sealed class BrowseTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task A_folder_lists_its_own_entries_only_and_a_file_streams_back_byte_for_byte()
    {
        var big = EngineTestKit.Random(3 * 1024 * 1024 + 17, 5);
        _kit.Write("docs/report.bin", big);
        _kit.Write("docs/deep/note.txt", "note");
        _kit.Write("top.txt", "top");
        using var engine = await _kit.InitAsync();
        var backup = await engine.BackupAsync(new BackupRequest(_kit.Source));

        Assert.Equal(["docs", "top.txt"], (await engine.ListDirectoryAsync(backup.SnapshotId)).Select(e => e.Path));
        var docs = await engine.ListDirectoryAsync(backup.SnapshotId, "docs");
        Assert.Equal(["docs/deep", "docs/report.bin"], docs.Select(e => e.Path));
        Assert.Equal(big.Length, docs.Single(e => e.Type == EntryType.File).Size);

        using var copy = new MemoryStream();
        var entry = await engine.WriteFileAsync(backup.SnapshotId, "docs/report.bin", copy);
        Assert.Equal(big, copy.ToArray());
        Assert.Equal("docs/report.bin", entry.Path);

        await Assert.ThrowsAsync<RepositoryException>(() => engine.WriteFileAsync(backup.SnapshotId, "docs", Stream.Null));
        await Assert.ThrowsAsync<RepositoryException>(() => engine.ListDirectoryAsync(backup.SnapshotId, "docs/missing"));
        await Assert.ThrowsAsync<RepositoryException>(() => engine.ListDirectoryAsync(backup.SnapshotId, "top.txt"));
    }

    [Fact]
    public async Task Copies_take_Azure_style_names_with_a_prefix_and_never_replace_the_original()
    {
        _kit.Write("report.docx", "yesterday");
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        File.WriteAllText(Path.Combine(_kit.Source, "report.docx"), "today");

        var prefix = "2026-11-24 14-00 Copy of ";
        var first = await engine.RestoreAsync(new RestoreRequest("latest", _kit.Source) { Conflict = RestoreConflict.CreateCopy, CopyPrefix = prefix });
        var second = await engine.RestoreAsync(new RestoreRequest("latest", _kit.Source) { Conflict = RestoreConflict.CreateCopy, CopyPrefix = prefix });

        Assert.Equal(OperationStatus.Completed, first.Status);
        Assert.Equal(OperationStatus.Completed, second.Status);
        Assert.Equal("today", File.ReadAllText(Path.Combine(_kit.Source, "report.docx")));
        Assert.Equal("yesterday", File.ReadAllText(Path.Combine(_kit.Source, prefix + "report.docx")));
        Assert.Equal("yesterday", File.ReadAllText(Path.Combine(_kit.Source, prefix + "report (2).docx")));
    }
}
