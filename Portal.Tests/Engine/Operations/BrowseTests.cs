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
    public async Task A_tree_streams_entry_by_entry_in_the_same_order_as_the_full_listing_and_what_was_read_arrives_before_a_damaged_folder_stops_it()
    {
        _kit.Write("a/one.txt", "1");
        _kit.Write("a/deep/two.txt", "2");
        _kit.Write("b/three.txt", "3");
        _kit.Write("top.txt", "top");
        using var engine = await _kit.InitAsync();
        var backup = await engine.BackupAsync(new BackupRequest(_kit.Source));
        var full = (await engine.ListTreeAsync(backup.SnapshotId)).Select(e => e.Path).ToList();
        Assert.Equal(["a", "a/deep", "a/deep/two.txt", "a/one.txt", "b", "b/three.txt", "top.txt"], full);
        var streamed = new List<string>();
        await foreach (var e in engine.StreamTreeAsync(backup.SnapshotId))
            streamed.Add(e.Path);
        Assert.Equal(full, streamed);
        Assert.Equal(["a", "a/deep", "a/deep/two.txt"], (await engine.ListTreeAsync(backup.SnapshotId, "a/deep")).Select(e => e.Path)); // the path's folders, then what is under it

        // After the first entry arrives, every pack goes: the next folder cannot be read, and the listing stops there
        // with the damage named, after handing over what it had (a full listing first would have shown nothing).
        var seen = new List<string>();
        var failure = await Assert.ThrowsAnyAsync<RepositoryException>(async () =>
        {
            await foreach (var e in engine.StreamTreeAsync(backup.SnapshotId))
            {
                seen.Add(e.Path);
                if (seen.Count == 1)
                    Directory.Delete(Path.Combine(_kit.RepoDir, "data"), recursive: true);
            }
        });
        Assert.Equal(["a"], seen);
        Assert.Contains("missing", failure.Message);
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
        // The result names the copies it made (the wizard shows them): only those, not the files restored under their own name.
        Assert.Equal([prefix + "report.docx"], first.Copies);
        Assert.Equal([prefix + "report (2).docx"], second.Copies);
    }

    [Fact]
    public async Task The_copies_of_a_restore_are_named_by_their_path_under_the_target()
    {
        _kit.Write("docs/a.txt", "a");
        _kit.Write("docs/b.txt", "b");
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        File.Delete(Path.Combine(_kit.Source, "docs", "b.txt"));

        var result = await engine.RestoreAsync(new RestoreRequest("latest", _kit.Source) { Conflict = RestoreConflict.CreateCopy, CopyPrefix = "P " });

        Assert.Equal(2, result.FilesRestored); // b.txt under its own name, a.txt as a copy
        Assert.Equal(["docs/P a.txt"], result.Copies);
        Assert.Equal("b", File.ReadAllText(Path.Combine(_kit.Source, "docs", "b.txt")));
    }
}
