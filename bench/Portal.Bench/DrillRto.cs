using System.Diagnostics;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Storage;

namespace Portal.Bench;

/// <summary>
/// "drill-rto REPO SCRATCH [RUNS]": how well a restore drill of a sample predicts a full restore (issue 22's ±20 %).
/// Times whole restores of the latest snapshot and random samples (N files, X bytes) in this process, as the portal's
/// drill times <c>RestoreAsync</c>, and prints each sample's extrapolation by the files' bytes (the old model) and by
/// what the restore read from storage (the model drills use: <see cref="RestoreSize.Extrapolate"/>) against the measured
/// whole restores before and after the samples.
/// </summary>
internal static class DrillRto
{
    public static async Task RunAsync(string repoDir, string scratch, int runs, string passphrase)
    {
        using var engine = await BackupEngine.OpenAsync(new LocalDirectoryStore(repoDir), passphrase);
        var size = await engine.MeasureRestoreAsync("latest");
        Console.WriteLine($"point: {size.Files:N0} files, {size.Bytes / 1e6:N1} MB; a whole restore reads {size.StorageReads:N0} blobs, {size.StorageBytes / 1e6:N1} MB stored");
        var files = (await engine.ListTreeAsync("latest")).Where(e => e.Type == EntryType.File).ToList();

        async Task<(TimeSpan Time, RestoreResult Result)> Restore(IReadOnlyList<string> include)
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, true);
            var watch = Stopwatch.StartNew();
            var r = await engine.RestoreAsync(new RestoreRequest("latest", scratch) { Include = include });
            watch.Stop();
            if (r.Status != Portal.Engine.Progress.OperationStatus.Completed) throw new InvalidOperationException(string.Join("; ", r.Errors.Take(3)));
            Directory.Delete(scratch, true);
            return (watch.Elapsed, r);
        }

        var fulls = new List<double>();
        var (full, fr) = await Restore([]);
        fulls.Add(full.TotalSeconds);
        Console.WriteLine($"whole restore: {full.TotalSeconds:0.0} s ({fr.StorageReads:N0} reads, {fr.StorageBytesRead / 1e6:N1} MB stored; load {Load()})");
        var lines = new List<(string Kind, double Seconds, double ByBytes, double ByStorage)>();
        for (var seed = 1; seed <= runs; seed++)
        {
            foreach (var (what, n) in new[] { ("files", 400L), ("files", 40L), ("bytes", 100L << 20), ("bytes", 20L << 20) })
            {
                var shuffled = files.OrderBy(_ => 0).ToList();
                new Random(seed * 31 + (int)(n % 1000)).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(shuffled));
                var chosen = new List<TreeEntry>();
                long bytes = 0;
                foreach (var f in shuffled)
                {
                    chosen.Add(f);
                    bytes += f.Size;
                    if (what == "files" ? chosen.Count >= n : bytes >= n) break;
                }
                var (t, r) = await Restore([.. chosen.Select(c => c.Path)]);
                var byBytes = t.TotalSeconds * size.Bytes / Math.Max(1, bytes);
                var byStorage = size.Extrapolate(t, r.StorageReads, r.StorageBytesRead).TotalSeconds;
                var costs = string.Join(" ", new long[] { 0, 16 << 10, 64 << 10, 256 << 10, 1 << 30 }.Select(k => $"{k >> 10}K:{size.Extrapolate(t, r.StorageReads, r.StorageBytesRead, k).TotalSeconds:0}"));
                var kind = what == "files" ? $"{n} files" : $"{n >> 20} MiB";
                Console.WriteLine($"sample {kind,-9} seed {seed}: {t.TotalSeconds,5:0.00} s, {chosen.Count,5:N0} files, {bytes / 1e6,6:N1} MB, {r.StorageReads,6:N0} reads, " +
                                  $"{r.StorageBytesRead / 1e6,6:N1} MB stored -> by bytes {byBytes,6:0.0} s, by storage reads {byStorage,6:0.0} s (load {Load()}); read cost {costs}");
                lines.Add((kind, t.TotalSeconds, byBytes, byStorage));
            }
        }
        var (again, _) = await Restore([]);
        fulls.Add(again.TotalSeconds);
        var reference = fulls.Average();
        Console.WriteLine($"whole restore again: {again.TotalSeconds:0.0} s; reference (mean of the two) {reference:0.0} s");
        foreach (var g in lines.GroupBy(l => l.Kind))
            Console.WriteLine($"{g.Key,-9}: by bytes {string.Join(" ", g.Select(l => Pct(l.ByBytes, reference)))}; by storage reads {string.Join(" ", g.Select(l => Pct(l.ByStorage, reference)))}");
    }

    private static string Pct(double estimate, double reference) => $"{(estimate - reference) / reference * 100:+0;-0} %";

    private static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
