using Portal.Engine.Operations;
using Portal.Engine.Progress;

namespace Portal.Tests.Engine.Operations;

/// <summary>
/// What a restore reads from storage (issue 22's RTO extrapolation): the restore reports its reads, a whole point's are
/// known beforehand from its listings and the index alone, and a sample's time scales by them, not by file bytes.
/// </summary>
public sealed class RestoreSizeTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task A_whole_restore_reads_what_the_measure_of_the_point_said_and_a_sample_reads_its_own_part()
    {
        _kit.WriteMixedTree(); // a 5 MiB random file, small files, nested folders, a symlink
        for (var i = 0; i < 30; i++) _kit.Write($"many/f{i:00}.txt", $"small file {i} " + new string('y', 100 * i));
        _kit.Write("twice/a.bin", EngineTestKit.Random(300_000, 7));
        _kit.Write("twice/b.bin", EngineTestKit.Random(300_000, 7)); // the same chunks: stored once, read for each file
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));

        var size = await engine.MeasureRestoreAsync("latest");
        var whole = await engine.RestoreAsync(new RestoreRequest("latest", _kit.NewTarget()));
        Assert.Equal(OperationStatus.Completed, whole.Status);
        Assert.Equal((whole.FilesRestored, whole.BytesRestored), (size.Files, size.Bytes));
        Assert.Equal((size.StorageReads, size.StorageBytes), (whole.StorageReads, whole.StorageBytesRead));
        Assert.True(size.StorageReads > size.Files, "every folder listing and every chunk is a read");

        var sample = await engine.RestoreAsync(new RestoreRequest("latest", _kit.NewTarget()) { Include = ["many/f03.txt", "many/f04.txt", "twice/a.bin"] });
        Assert.Equal(3, sample.FilesRestored);
        Assert.InRange(sample.StorageReads, 5, size.StorageReads / 2); // root, many, twice listings and the files' chunks
        Assert.InRange(sample.StorageBytesRead, 300_000 / 2, size.StorageBytes / 4);

        // Scaled by the storage work (each read's bytes plus a fixed cost per read), never by the files' bytes alone.
        var measured = TimeSpan.FromSeconds(2);
        var expected = 2 * (size.StorageBytes + 65536.0 * size.StorageReads) / (sample.StorageBytesRead + 65536.0 * sample.StorageReads);
        // Within a microsecond: a TimeSpan holds 100 ns ticks, so rounding both to six places can fall on either side of a half.
        Assert.Equal(expected, size.Extrapolate(measured, sample.StorageReads, sample.StorageBytesRead).TotalSeconds, tolerance: 1e-6);
        Assert.Equal(measured, size.Extrapolate(measured, size.StorageReads, size.StorageBytes)); // the whole point: its own time

        // What every restore pays once (the lock, the snapshot, the index) is measured and not scaled: a whole restore pays it once too.
        Assert.InRange(sample.Setup, TimeSpan.FromTicks(1), TimeSpan.FromMinutes(1));
        var setup = TimeSpan.FromSeconds(0.5);
        Assert.Equal(0.5 + 1.5 * expected / 2, size.Extrapolate(measured, sample.StorageReads, sample.StorageBytesRead, setup).TotalSeconds, 6);
    }

    [Fact]
    public async Task Many_includes_select_exactly_their_files_and_folders()
    {
        for (var d = 0; d < 20; d++)
        for (var f = 0; f < 20; f++)
            _kit.Write($"d{d:00}/sub/f{f:00}.txt", $"{d}/{f}");
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        var include = Enumerable.Range(0, 20).Select(d => $"d{d:00}/sub/f{d:00}.txt").Append("d05").Append("./d07/sub/").ToList();
        var target = _kit.NewTarget();

        var r = await engine.RestoreAsync(new RestoreRequest("latest", target) { Include = include });

        Assert.Equal(OperationStatus.Completed, r.Status);
        var restored = Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(target, p).Replace('\\', '/')).Order().ToList();
        var wanted = Enumerable.Range(0, 20).Select(d => $"d{d:00}/sub/f{d:00}.txt")
            .Concat(Enumerable.Range(0, 20).SelectMany(f => new[] { $"d05/sub/f{f:00}.txt", $"d07/sub/f{f:00}.txt" })).Distinct().Order().ToList();
        Assert.Equal(wanted, restored);
    }
}
