using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Platform;
using Portal.Engine.Progress;

namespace Portal.Tests.Engine.Operations;

public sealed class BackupRestoreTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task A_mixed_tree_round_trips_with_contents_modes_times_and_symlinks()
    {
        _kit.WriteMixedTree();
        using var engine = await _kit.InitAsync();
        var backup = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal(OperationStatus.Completed, backup.Status);
        Assert.Empty(backup.Warnings);

        var target = _kit.NewTarget();
        var progress = new List<OperationProgress>();
        var restore = await engine.RestoreAsync(new RestoreRequest("latest", target), new SyncProgress<OperationProgress>(p => { lock (progress) progress.Add(p); }));

        Assert.Equal(OperationStatus.Completed, restore.Status);
        Assert.Empty(restore.Errors);
        EngineTestKit.AssertSameTree(_kit.Source, target);
        Assert.True(Directory.Exists(Path.Combine(target, "empty-folder")));
        Assert.Equal("/nonexistent/target", new FileInfo(Path.Combine(target, "dangling")).LinkTarget);
        var last = progress[^1];
        Assert.Equal(last.FilesTotal, last.FilesDone);
        Assert.Equal(new FileInfo(Path.Combine(_kit.Source, "media/big.bin")).Length + 12 + 7 + 8 + 7 + 5000 * 23, last.BytesDone);
    }

    [Fact]
    public async Task Selected_paths_restore_alone_under_their_relative_path()
    {
        _kit.WriteMixedTree();
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        var target = _kit.NewTarget();
        var r = await engine.RestoreAsync(new RestoreRequest("latest", target) { Include = ["docs/readme.txt", "deep/a"] });
        Assert.Equal(OperationStatus.Completed, r.Status);
        Assert.Equal(2, r.FilesRestored);
        Assert.True(File.Exists(Path.Combine(target, "docs/readme.txt")));
        Assert.True(File.Exists(Path.Combine(target, "deep/a/b/c/d/leaf.txt")));
        Assert.False(File.Exists(Path.Combine(target, "docs/.hidden")));
        Assert.False(Directory.Exists(Path.Combine(target, "media")));
    }

    [Fact]
    public async Task A_file_stored_twice_costs_one_copy()
    {
        var data = EngineTestKit.Random(3 * 1024 * 1024, 11);
        _kit.Write("one/copy.bin", data);
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        var once = _kit.StoredBytes();

        _kit.Write("two/copy-again.bin", data);
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.True(_kit.StoredBytes() - once < 64 * 1024, $"the duplicate added {_kit.StoredBytes() - once} bytes");
        Assert.Equal(1, second.FilesRead);
        Assert.True(once < data.Length * 1.01);
    }

    [Fact]
    public async Task A_sparse_restore_leaves_zero_blocks_out_as_holes_and_keeps_content_and_length()
    {
        // A disk image: 64 KiB blocks, random or zero (shorter runs than a chunk), ending in zeros.
        const int Block = 64 * 1024, Blocks = 96, HoleBlockSize = 4096;
        var image = new byte[Blocks * Block];
        var zero = new bool[Blocks];
        var pick = new Random(23);
        for (var b = 0; b < Blocks; b++)
        {
            zero[b] = b >= Blocks - 3 || (b > 0 && pick.Next(5) < 2);
            if (!zero[b]) EngineTestKit.Random(Block, 100 + b).CopyTo(image, b * Block);
        }
        long data = zero.Count(z => !z) * (long)Block;
        _kit.Write("vm/disk.img", image);
        _kit.Write("small-zeros.bin", new byte[100]);
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));

        var sparse = _kit.NewTarget();
        var r = await engine.RestoreAsync(new RestoreRequest("latest", sparse) { Sparse = true });
        var full = _kit.NewTarget();
        Assert.Empty(r.Errors);
        Assert.Empty((await engine.RestoreAsync(new RestoreRequest("latest", full))).Errors);

        EngineTestKit.AssertSameTree(_kit.Source, sparse); // same content and length (the last blocks are holes)
        Assert.Equal(image.Length + 100, r.BytesRestored); // holes count as restored bytes
        var (firstHole, allocated) = EngineTestKit.Holes(Path.Combine(sparse, "vm/disk.img"));
        var firstZero = Array.IndexOf(zero, true) * (long)Block; // chunks are at least 16 KiB: some of its 4 KiB blocks are whole
        Assert.InRange(firstHole, firstZero, firstZero + Block - HoleBlockSize);
        // Only a 4 KiB block that a chunk's edge cuts in two is written although zero: a little over the data.
        Assert.True(allocated <= data + (image.Length - data) / 4, $"{allocated} bytes allocated for {data} of data in {image.Length}");
        Assert.Equal(image.Length, EngineTestKit.Holes(Path.Combine(full, "vm/disk.img")).FirstHole); // by default every byte is written
    }

    [Fact]
    public async Task One_byte_inserted_at_the_start_of_a_large_file_re_uploads_little()
    {
        var data = EngineTestKit.Random(16 * 1024 * 1024, 12);
        _kit.Write("big.bin", data);
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        var before = _kit.StoredBytes();

        _kit.Write("big.bin", [0x42, .. data]);
        var r = await engine.BackupAsync(new BackupRequest(_kit.Source));
        var added = _kit.StoredBytes() - before;
        Assert.True(added < 2 * 1024 * 1024, $"1 inserted byte re-uploaded {added} bytes of a 16 MiB file");
        Assert.Equal(1, r.FilesRead);
        var target = _kit.NewTarget();
        await engine.RestoreAsync(new RestoreRequest("latest", target));
        Assert.Equal([0x42, .. data], await File.ReadAllBytesAsync(Path.Combine(target, "big.bin")));
    }

    [Fact]
    public async Task An_incremental_backup_reads_only_new_and_changed_files()
    {
        for (var i = 0; i < 20; i++) _kit.Write($"f/{i}.txt", $"file {i}");
        using var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal(20, first.FilesRead);

        _kit.Write("f/3.txt", "changed content, another size");
        _kit.Write("f/new.txt", "new");
        var read = new List<string>();
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source),
            new SyncProgress<OperationProgress>(p => { if (p.Phase == OperationPhase.Read && p.CurrentPath is { } c) lock (read) read.Add(c); }));
        Assert.Equal(2, second.FilesRead);
        Assert.Equal(19, second.FilesUnchanged);
        Assert.Equal(["f/3.txt", "f/new.txt"], read.Order(StringComparer.Ordinal));
        Assert.Equal(first.SnapshotId, (await engine.ListSnapshotsAsync()).Single(s => s.Id == second.SnapshotId).Parent);

        var third = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal(0, third.FilesRead);
        Assert.Equal(0, third.BytesAdded);
    }

    [Fact]
    public async Task A_copied_source_counts_as_unchanged_but_a_file_whose_content_changed_under_the_same_size_and_time_is_stored()
    {
        _kit.Write("docs/a.txt", "first file");
        _kit.Write("media/b.bin", EngineTestKit.Random(3 * 1024 * 1024, 5));
        _kit.Write("same-size.txt", "AAAA");
        using var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source));

        // A copy with its times kept (cp -a, rsync -a, a restore) gives every file a new inode and ctime.
        var old = _kit.Source + ".old";
        Directory.Move(_kit.Source, old);
        foreach (var file in Directory.EnumerateFiles(old, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(_kit.Source, Path.GetRelativePath(old, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
            Native.SetMtime(copy, Native.TryLStat(file)!.Value.MtimeNs);
        }
        // ...and one file's bytes differ although its size and mtime are those of the backed-up file.
        var sameSize = Path.Combine(_kit.Source, "same-size.txt");
        File.WriteAllText(sameSize, "BBBB");
        Native.SetMtime(sameSize, Native.TryLStat(Path.Combine(old, "same-size.txt"))!.Value.MtimeNs);

        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal(OperationStatus.Completed, second.Status);
        Assert.Equal(2, second.FilesUnchanged);
        Assert.Equal(1, second.FilesRead);
        Assert.True(second.BytesAdded < 4096, $"a copy of backed-up files added {second.BytesAdded} bytes");
        Assert.Equal(first.SnapshotId, (await engine.ListSnapshotsAsync()).Single(s => s.Id == second.SnapshotId).Parent);

        var target = _kit.NewTarget();
        await engine.RestoreAsync(new RestoreRequest("latest", target));
        EngineTestKit.AssertSameTree(_kit.Source, target);
        Assert.Equal("BBBB", await File.ReadAllTextAsync(Path.Combine(target, "same-size.txt")));

        var third = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal((0, 3), (third.FilesRead, third.FilesUnchanged));
    }

    [Fact]
    public async Task An_unreadable_file_is_a_warning_with_its_path_and_the_rest_is_saved()
    {
        _kit.Write("ok.txt", "fine");
        var doomed = _kit.Write("vanishing.txt", "gone before it is read");
        using var engine = await _kit.InitAsync();
        // The walk has seen the file (it counts as the second file to read); it disappears before the read (as a file
        // locked or removed by another program).
        var progress = new SyncProgress<OperationProgress>(p => { if (p.Phase == OperationPhase.Read && p.FilesTotal == 2 && File.Exists(doomed)) File.Delete(doomed); });
        var r = await engine.BackupAsync(new BackupRequest(_kit.Source), progress);
        Assert.Equal(OperationStatus.CompletedWithWarnings, r.Status);
        var warning = Assert.Single(r.Warnings);
        Assert.Contains("vanishing.txt", warning);
        Assert.Equal(1, r.Files);
        var snap = Assert.Single(await engine.ListSnapshotsAsync());
        Assert.Equal(OperationStatus.CompletedWithWarnings, snap.Status);
        var entries = await engine.ListTreeAsync("latest");
        Assert.Equal(["ok.txt"], entries.Select(e => e.Path));
    }

    [Fact]
    public async Task Without_permission_a_file_is_a_warning_when_not_root()
    {
        if (Environment.UserName == "root" || OperatingSystem.IsWindows()) return; // root reads everything; the vanishing-file test covers the path
        var path = _kit.Write("secret.txt", "x");
        File.SetUnixFileMode(path, UnixFileMode.None);
        using var engine = await _kit.InitAsync();
        var r = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal(OperationStatus.CompletedWithWarnings, r.Status);
        Assert.Contains("secret.txt", Assert.Single(r.Warnings));
    }

    [Fact]
    public async Task Restore_conflicts_overwrite_create_a_copy_or_skip()
    {
        _kit.Write("a.txt", "from backup");
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        var target = _kit.NewTarget();
        Directory.CreateDirectory(target);
        var existing = Path.Combine(target, "a.txt");

        await File.WriteAllTextAsync(existing, "local");
        var skip = await engine.RestoreAsync(new RestoreRequest("latest", target) { Conflict = RestoreConflict.Skip });
        Assert.Equal(1, skip.Skipped);
        Assert.Equal("local", await File.ReadAllTextAsync(existing));

        var copy = await engine.RestoreAsync(new RestoreRequest("latest", target) { Conflict = RestoreConflict.CreateCopy });
        Assert.Equal(1, copy.FilesRestored);
        Assert.Equal("local", await File.ReadAllTextAsync(existing));
        Assert.Equal("from backup", await File.ReadAllTextAsync(Path.Combine(target, "a (restored).txt")));

        var overwrite = await engine.RestoreAsync(new RestoreRequest("latest", target) { Conflict = RestoreConflict.Overwrite });
        Assert.Equal(OperationStatus.Completed, overwrite.Status);
        Assert.Equal("from backup", await File.ReadAllTextAsync(existing));
    }

    [Fact]
    public async Task Ls_and_diff_show_the_tree_and_the_changes()
    {
        _kit.Write("keep.txt", "same");
        _kit.Write("change.txt", "v1");
        _kit.Write("gone/old.txt", "old");
        using var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source));
        _kit.Write("change.txt", "version 2");
        Directory.Delete(Path.Combine(_kit.Source, "gone"), recursive: true);
        _kit.Write("added.txt", "new");
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));

        var ls = await engine.ListTreeAsync(first.SnapshotId[..10]);
        Assert.Equal(["change.txt", "gone", "gone/old.txt", "keep.txt"], ls.Select(e => e.Path));
        Assert.Equal(EntryType.Directory, ls[1].Type);
        var diff = await engine.DiffAsync(first.SnapshotId, second.SnapshotId);
        Assert.Equal(
            ["+ added.txt", "M change.txt", "- gone", "- gone/old.txt"],
            diff.Select(d => $"{d.Kind switch { DiffKind.Added => "+", DiffKind.Removed => "-", _ => "M" }} {d.Path}"));
    }
}
