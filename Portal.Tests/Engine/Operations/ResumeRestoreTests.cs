using Portal.Engine.Operations;
using Portal.Engine.Platform;
using Portal.Engine.Progress;

namespace Portal.Tests.Engine.Operations;

/// <summary>
/// A restore taken over after a crash resumes: files already complete (same size and content fingerprint) are kept,
/// the damaged and the missing ones are restored, and the target ends up equal to the snapshot.
/// </summary>
public sealed class ResumeRestoreTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static StatInfo Stat(string path) => Native.TryLStat(path) ?? throw new FileNotFoundException(path);

    [Fact]
    public async Task A_resumed_restore_fixes_a_damaged_and_a_deleted_file_and_keeps_the_complete_ones_untouched()
    {
        _kit.WriteMixedTree();
        for (var i = 0; i < 20; i++) _kit.Write($"many/file-{i:D2}.txt", $"file {i}\n");
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        var target = _kit.NewTarget();
        var first = await engine.RestoreAsync(new RestoreRequest("latest", target));
        Assert.Empty(first.Errors);

        var files = Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories)
            .Where(f => Stat(f).FileType == StatInfo.Regular).ToList();
        var before = files.ToDictionary(f => f, Stat);
        // Half written, as a crash leaves a file; changed in one byte with its size and time kept (time alone proves
        // nothing); deleted.
        var big = Path.Combine(target, "media/big.bin");
        using (var f = File.OpenWrite(big)) f.SetLength(f.Length / 2);
        var readme = Path.Combine(target, "docs/readme.txt");
        File.WriteAllText(readme, "HELLO world\n");
        Native.SetMtime(readme, before[readme].MtimeNs);
        var leaf = Path.Combine(target, "deep/a/b/c/d/leaf.txt");
        File.Delete(leaf);

        var progress = new List<OperationProgress>();
        var resumed = await engine.RestoreAsync(new RestoreRequest("latest", target) { Resume = true },
            new SyncProgress<OperationProgress>(p => { lock (progress) progress.Add(p); }));

        Assert.Empty(resumed.Errors);
        Assert.Equal(OperationStatus.Completed, resumed.Status);
        EngineTestKit.AssertSameTree(_kit.Source, target);
        Assert.Equal(3, resumed.FilesRestored);
        Assert.Equal(files.Count - 3, resumed.FilesAlreadyComplete);
        Assert.Equal(new FileInfo(big).Length + 12 + 5000 * 23, resumed.BytesRestored);
        foreach (var (path, stat) in before)
        {
            if (path == big || path == readme || path == leaf) continue;
            var now = Stat(path);
            Assert.True((stat.Inode, stat.MtimeNs) == (now.Inode, now.MtimeNs), $"{path} was rewritten");
        }
        Assert.NotEqual(before[big].Inode, Stat(big).Inode); // rewritten through a temporary file renamed into place
        var last = progress[^1];
        Assert.True(last.IsFinal);
        Assert.Equal((last.FilesTotal, last.BytesTotal), (last.FilesDone, last.BytesDone));
        Assert.Equal(files.Count, last.FilesTotal);
    }

    [Fact]
    public async Task Without_resume_an_existing_complete_file_is_rewritten_as_before()
    {
        _kit.Write("a.txt", "content");
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        var target = _kit.NewTarget();
        await engine.RestoreAsync(new RestoreRequest("latest", target));
        var inode = Stat(Path.Combine(target, "a.txt")).Inode;

        var again = await engine.RestoreAsync(new RestoreRequest("latest", target));

        Assert.Equal((1L, 0L), (again.FilesRestored, again.FilesAlreadyComplete));
        Assert.NotEqual(inode, Stat(Path.Combine(target, "a.txt")).Inode);
    }

    [Fact]
    public async Task A_resumed_restore_with_copies_keeps_the_copies_it_made_instead_of_making_second_ones()
    {
        _kit.Write("report.docx", "the backed-up report");
        _kit.Write("notes.txt", "the backed-up notes");
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        var target = _kit.NewTarget();
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "report.docx"), "today's report, edited since");
        File.WriteAllText(Path.Combine(target, "notes.txt"), "today's notes, edited since");
        var request = new RestoreRequest("latest", target) { Conflict = RestoreConflict.CreateCopy, CopyPrefix = "2026-12-06 22-00 Copy of " };
        await engine.RestoreAsync(request);
        File.Delete(Path.Combine(target, "2026-12-06 22-00 Copy of notes.txt")); // the attempt stopped before this copy

        var resumed = await engine.RestoreAsync(request with { Resume = true });

        Assert.Equal((1L, 1L), (resumed.FilesRestored, resumed.FilesAlreadyComplete));
        Assert.Equal(
            ["2026-12-06 22-00 Copy of notes.txt", "2026-12-06 22-00 Copy of report.docx", "notes.txt", "report.docx"],
            Directory.GetFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("the backed-up notes", File.ReadAllText(Path.Combine(target, "2026-12-06 22-00 Copy of notes.txt")));
    }

    [Fact]
    public async Task A_resumed_skip_restore_rewrites_what_the_stopped_attempt_half_wrote_but_keeps_the_targets_own_files_and_removes_its_temporary_files()
    {
        _kit.Write("a.txt", "restored content of a");
        _kit.Write("b.txt", "restored content of b");
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        var target = _kit.NewTarget();
        Directory.CreateDirectory(target);
        var own = Path.Combine(target, "b.txt");
        File.WriteAllText(own, "the user's own b, older than the restore");
        File.SetLastWriteTimeUtc(own, DateTime.UtcNow.AddDays(-3));
        var started = DateTimeOffset.UtcNow.AddMinutes(-1);
        File.WriteAllText(Path.Combine(target, "a.txt"), "restored con"); // the stopped attempt was writing it
        File.WriteAllText(Path.Combine(target, ".portal-restore-0123456789abcdef0123456789abcdef"), "a replacement it was writing");

        var resumed = await engine.RestoreAsync(new RestoreRequest("latest", target) { Conflict = RestoreConflict.Skip, Resume = true, ResumeSince = started });

        Assert.Equal((1L, 1L), (resumed.FilesRestored, resumed.Skipped));
        Assert.Equal("restored content of a", File.ReadAllText(Path.Combine(target, "a.txt")));
        Assert.Equal("the user's own b, older than the restore", File.ReadAllText(own));
        Assert.Equal(["a.txt", "b.txt"], Directory.GetFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
