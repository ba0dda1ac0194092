using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Features.Jobs;

namespace Portal.Tests.Engine.Progress;

/// <summary>
/// Every operation ends with one final report whose counters equal its totals, so a job's row never shows a completed
/// restore with fewer files than its total (the portal used to guess the last report from the phase name, and restore,
/// check and prune never sent one: a throttled last report left the counters short).
/// </summary>
public sealed class FinalProgressTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private sealed class Recorder : IProgress<OperationProgress>
    {
        private readonly List<OperationProgress> _reports = [];
        public void Report(OperationProgress value) { lock (_reports) _reports.Add(value); }
        public List<OperationProgress> Reports { get { lock (_reports) return [.. _reports]; } }
    }

    /// <summary>The last report is the only final one, of <paramref name="phase"/>, with every counter at its total.</summary>
    private static OperationProgress AssertEndsFinal(Recorder recorder, OperationPhase phase)
    {
        var reports = recorder.Reports;
        var last = reports[^1];
        Assert.True(last.IsFinal, $"the last report ({last}) is not final");
        Assert.Single(reports, r => r.IsFinal);
        Assert.Equal(phase, last.Phase);
        Assert.Equal(last.FilesTotal, last.FilesDone);
        Assert.Equal(last.BytesTotal, last.BytesDone);
        return last;
    }

    private async Task<BackupEngine> BackedUpAsync()
    {
        _kit.WriteMixedTree();
        for (var i = 0; i < 40; i++) _kit.Write($"many/file-{i:D2}.txt", $"file {i}\n");
        var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        return engine;
    }

    [Fact]
    public async Task A_backup_ends_with_a_final_report_counting_every_file_and_byte_read()
    {
        _kit.WriteMixedTree();
        using var engine = await _kit.InitAsync();
        var recorder = new Recorder();
        await engine.BackupAsync(new BackupRequest(_kit.Source), recorder);

        var last = AssertEndsFinal(recorder, OperationPhase.Finish);
        Assert.Equal(recorder.Reports.Where(r => r.Phase == OperationPhase.Read).Max(r => r.FilesTotal), last.FilesTotal);
        Assert.Equal(new FileInfo(Path.Combine(_kit.Source, "media/big.bin")).Length + 12 + 7 + 8 + 7 + 5000 * 23, last.BytesTotal);
    }

    [Fact]
    public async Task A_stream_backup_ends_with_a_final_report_of_the_stream_length()
    {
        using var engine = await _kit.InitAsync();
        var recorder = new Recorder();
        var data = EngineTestKit.Random(300_000, 3);
        await engine.BackupStreamAsync(new StreamBackupRequest("postgresql://db/sales", "sales.dump"), new MemoryStream(data), recorder);

        var last = AssertEndsFinal(recorder, OperationPhase.Finish);
        Assert.Equal((1L, 300_000L), (last.FilesTotal, last.BytesTotal));
    }

    [Fact]
    public async Task A_restore_ends_with_a_final_report_counting_every_file_and_byte()
    {
        using var engine = await BackedUpAsync();
        var recorder = new Recorder();
        var result = await engine.RestoreAsync(new RestoreRequest("latest", _kit.NewTarget()), recorder);

        var last = AssertEndsFinal(recorder, OperationPhase.Restore);
        Assert.Equal(result.FilesRestored, last.FilesTotal);
        Assert.Equal(result.BytesRestored, last.BytesTotal);
    }

    [Fact]
    public async Task Check_prune_forget_and_the_listings_each_end_with_a_final_report()
    {
        using var engine = await BackedUpAsync();
        _kit.Write("later.txt", "a second snapshot");
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));
        var first = (await engine.ListSnapshotsAsync())[0].Id;

        var check = new Recorder();
        await engine.CheckAsync(readData: true, check);
        Assert.True(AssertEndsFinal(check, OperationPhase.Check).FilesTotal > 0);

        var list = new Recorder();
        var items = await engine.ListTreeAsync(second.SnapshotId, progress: list);
        Assert.Equal(items.Count, AssertEndsFinal(list, OperationPhase.List).FilesTotal);

        var diff = new Recorder();
        var changes = await engine.DiffAsync(first, second.SnapshotId, diff);
        Assert.Equal(changes.Count, AssertEndsFinal(diff, OperationPhase.Diff).FilesTotal);

        var snapshots = new Recorder();
        await engine.ListSnapshotsAsync(snapshots);
        Assert.Equal(2, AssertEndsFinal(snapshots, OperationPhase.Snapshots).FilesTotal);

        var forget = new Recorder();
        await engine.ForgetAsync([first], forget);
        Assert.Equal(1, AssertEndsFinal(forget, OperationPhase.Forget).FilesTotal);

        var prune = new Recorder();
        await engine.PruneAsync(prune);
        Assert.Equal(1, AssertEndsFinal(prune, OperationPhase.Prune).FilesTotal);

        var open = new Recorder();
        using var reopened = await BackupEngine.OpenAsync(_kit.Store, EngineTestKit.Passphrase, EngineTestKit.Options, open);
        AssertEndsFinal(open, OperationPhase.Key);
    }

    [Fact]
    public async Task A_throttled_progress_still_passes_on_the_final_report_of_a_restore()
    {
        using var engine = await BackedUpAsync();
        var recorder = new Recorder();
        // An hour between reports: only the first report and the final one get through.
        var throttled = new ThrottledProgress<OperationProgress>(recorder.Report, TimeSpan.FromHours(1), TimeProvider.System, p => p.IsFinal);
        var result = await engine.RestoreAsync(new RestoreRequest("latest", _kit.NewTarget()), throttled);

        var last = AssertEndsFinal(recorder, OperationPhase.Restore);
        Assert.Equal(2, recorder.Reports.Count);
        Assert.Equal(result.FilesRestored, last.FilesDone);
    }
}
