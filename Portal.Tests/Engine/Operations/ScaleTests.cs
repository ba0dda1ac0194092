using System.Text;
using Portal.Engine.Operations;
using Portal.Engine.Platform;

namespace Portal.Tests.Engine.Operations;

/// <summary>
/// Correctness at scale (issue 24), small enough for CI: a folder of 12,000 entries next to a deep tree, hard links
/// and a sparse file, backed up, changed a little, backed up again and restored byte-identical with its metadata. The
/// speed and memory figures at a million files are benchmarks (bench/README.md), not tests.
/// </summary>
public sealed class ScaleTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task A_folder_of_12000_files_with_hard_links_and_a_sparse_file_comes_back_identical()
    {
        if (!OperatingSystem.IsLinux()) return;
        const int Flat = 12_000; // the 100,000-file folder and the million-file tree are benchmarks (bench/README.md): this keeps the suite within its time
        var flat = Directory.CreateDirectory(Path.Combine(_kit.Source, "flat")).FullName;
        for (var i = 0; i < Flat; i++)
            File.WriteAllBytes(Path.Combine(flat, $"m{i:D6}.eml"), Encoding.UTF8.GetBytes($"From: {i % 97}@example.org\nSubject: message {i}\n\n{new string((char)('a' + i % 26), i % 300)}\n"));
        // A deep, narrow tree (depth 40) and a wide one of 2,000 files in 40 folders.
        var deep = _kit.Source;
        for (var d = 0; d < 40; d++) deep = Path.Combine(deep, $"level{d}");
        _kit.Write(Path.GetRelativePath(_kit.Source, Path.Combine(deep, "bottom.txt")), "at the bottom");
        for (var i = 0; i < 2000; i++) _kit.Write($"tree/d{i % 40:D2}/f{i:D4}.txt", $"file {i} " + new string('x', i % 500));
        // Hard links across folders, and a sparse 64 MiB file with 1 MiB of data.
        var linked = _kit.Write("tree/d00/linked.bin", EngineTestKit.Random(200_000, 5));
        Native.CreateHardLink(linked, Path.Combine(flat, "linked-too.bin"));
        var sparse = Path.Combine(_kit.Source, "tree/sparse.img");
        using (var f = File.Create(sparse))
        {
            f.SetLength(64 << 20);
            f.Position = 32 << 20;
            f.Write(EngineTestKit.Random(1 << 20, 6));
        }

        using var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Empty(first.Warnings);
        Assert.Equal(Flat + 2000 + 4, first.Files);

        // The next day: a few messages edited, one added, one deleted.
        File.AppendAllText(Path.Combine(flat, "m001234.eml"), "edited\n");
        File.WriteAllText(Path.Combine(flat, "m100001.eml"), "new message\n");
        File.Delete(Path.Combine(flat, "m000007.eml"));
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal(Flat + 2000 + 4, second.Files);
        Assert.True(second.FilesRead < 1000, $"{second.FilesRead} files read again of {second.Files}");

        var target = _kit.NewTarget();
        var restored = await engine.RestoreAsync(new RestoreRequest(second.SnapshotId, target) { Sparse = true });
        Assert.Empty(restored.Errors);
        EngineTestKit.AssertSameTree(_kit.Source, target);
        var a = Native.TryLStat(Path.Combine(target, "tree/d00/linked.bin"))!.Value;
        var b = Native.TryLStat(Path.Combine(target, "flat/linked-too.bin"))!.Value;
        Assert.Equal(a.Inode, b.Inode);
        var (firstHole, allocated) = EngineTestKit.Holes(Path.Combine(target, "tree/sparse.img"));
        Assert.Equal(0, firstHole);
        Assert.True(allocated < 4 << 20, $"{allocated} bytes allocated for 1 MiB of data in a 64 MiB sparse file");
    }
}
