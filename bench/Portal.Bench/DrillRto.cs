using System.Diagnostics;
using System.Globalization;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Storage;

namespace Portal.Bench;

/// <summary>
/// "drill-rto REPO SCRATCH [ROUNDS]": how well a restore drill of a sample predicts a full restore (issue 22's ±20 %).
/// Each round restores the latest snapshot whole, then random samples (N files, X bytes), in this process as the portal's
/// drill times <c>RestoreAsync</c>; the next round's whole restore closes the round. Each sample's extrapolation (the model
/// drills use: <see cref="RestoreSize.Extrapolate"/>, and the older ones) is compared with the mean of the whole restores
/// just before and after it, so that a load that changes over minutes moves both. Prints each sample, then per kind and
/// model the errors and their spread, and writes the raw figures to SCRATCH.csv for fitting.
/// </summary>
internal static class DrillRto
{
    private sealed record Sample(string Kind, int Round, double Seconds, double Setup, long Reads, long Stored, long Files, long Bytes);

    public static async Task RunAsync(string repoDir, string scratch, int rounds, string passphrase)
    {
        using var engine = await BackupEngine.OpenAsync(new LocalDirectoryStore(repoDir), passphrase);
        var size = await engine.MeasureRestoreAsync("latest");
        Console.WriteLine(Flush ? "restore times include writing the data to disk (syncfs: RestoreRequest.Flush)" : "restore times end with the restore (its writes may still be in the page cache)");
        Console.WriteLine($"point: {size.Files:N0} files, {size.Bytes / 1e6:N1} MB; a whole restore reads {size.StorageReads:N0} blobs, {size.StorageBytes / 1e6:N1} MB stored");
        var files = (await engine.ListTreeAsync("latest")).Where(e => e.Type == EntryType.File).ToList();

        async Task<(TimeSpan Time, RestoreResult Result)> Restore(IReadOnlyList<string> include)
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, true);
            var watch = Stopwatch.StartNew();
            var r = await engine.RestoreAsync(new RestoreRequest("latest", scratch) { Include = include, Flush = Flush });
            watch.Stop();
            if (r.Status != Portal.Engine.Progress.OperationStatus.Completed) throw new InvalidOperationException(string.Join("; ", r.Errors.Take(3)));
            Directory.Delete(scratch, true);
            return (watch.Elapsed, r);
        }

        var wholes = new List<double>();
        var samples = new List<Sample>();
        var csv = new List<string> { "kind,round,seconds,setup,reads,stored,files,bytes" };
        for (var round = 1; round <= rounds + 1; round++)
        {
            var (full, fr) = await Restore([]);
            wholes.Add(full.TotalSeconds);
            csv.Add(Invariant($"whole,{round},{full.TotalSeconds:0.000},{fr.Setup.TotalSeconds:0.000},{fr.StorageReads},{fr.StorageBytesRead},{fr.FilesRestored},{size.Bytes}"));
            Console.WriteLine($"round {round}: whole restore {full.TotalSeconds:0.0} s (setup {fr.Setup.TotalSeconds:0.00} s, {fr.StorageReads:N0} reads, {fr.StorageBytesRead / 1e6:N1} MB stored; load {Load()})");
            if (round > rounds)
                break;
            foreach (var (what, n, byFolder) in Kinds)
            {
                var random = new Random(round * 31 + (int)(n % 1000));
                var shuffled = files.ToList();
                random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(shuffled));
                if (byFolder) // whole folders in a random order, as a drill draws them: the files of one folder are restored together
                {
                    var folders = shuffled.Select(f => Folder(f.Path)).Distinct().ToList();
                    var rank = folders.Select((f, i) => (f, i)).ToDictionary(x => x.f, x => x.i, StringComparer.Ordinal);
                    shuffled = [.. shuffled.OrderBy(f => rank[Folder(f.Path)]).ThenBy(f => f.Path, StringComparer.Ordinal)];
                }
                var chosen = new List<TreeEntry>();
                long bytes = 0;
                foreach (var f in shuffled)
                {
                    chosen.Add(f);
                    bytes += f.Size;
                    if (what == "files" ? chosen.Count >= n : bytes >= n) break;
                }
                var (t, r) = await Restore([.. chosen.Select(c => c.Path)]);
                var kind = (what == "files" ? $"{n} files" : $"{n >> 20} MiB") + (byFolder ? "/dir" : "");
                var s = new Sample(kind, round, t.TotalSeconds, r.Setup.TotalSeconds, r.StorageReads, r.StorageBytesRead, chosen.Count, bytes);
                samples.Add(s);
                csv.Add(Invariant($"{kind},{round},{t.TotalSeconds:0.000},{r.Setup.TotalSeconds:0.000},{r.StorageReads},{r.StorageBytesRead},{chosen.Count},{bytes}"));
                Console.WriteLine($"  sample {kind,-13}: {t.TotalSeconds,5:0.00} s (setup {r.Setup.TotalSeconds:0.00} s), {chosen.Count,5:N0} files, {bytes / 1e6,6:N1} MB, " +
                                  $"{r.StorageReads,6:N0} reads, {r.StorageBytesRead / 1e6,6:N1} MB stored -> drill model {Model(size, s, "drill"),6:0.0} s (load {Load()})");
            }
        }

        File.WriteAllLines(scratch + ".csv", csv);
        Console.WriteLine($"whole restores: {string.Join(" ", wholes.Select(w => $"{w:0.0}"))} s; raw figures in {scratch}.csv");
        foreach (var model in Models)
        {
            Console.WriteLine($"model {model}:");
            foreach (var g in samples.GroupBy(l => l.Kind))
            {
                var errors = g.Select(l => Error(Model(size, l, model), (wholes[l.Round - 1] + wholes[l.Round]) / 2)).ToList();
                Console.WriteLine($"  {g.Key,-13}: {string.Join(" ", errors.Select(e => $"{e:+0;-0;0} %"))}; within ±20 %: {errors.Count(e => Math.Abs(e) <= 20)} of {errors.Count}");
            }
        }
    }

    /// <summary>What each round samples: files or bytes, how many, and whether folder by folder (else file by file, scattered).</summary>
    private static readonly (string What, long N, bool ByFolder)[] Kinds =
        [("files", 400, false), ("files", 400, true), ("files", 40, false), ("files", 40, true), ("bytes", 100L << 20, false), ("bytes", 20L << 20, false), ("bytes", 20L << 20, true)];

    private static string Folder(string path) => path.LastIndexOf('/') is var slash and > 0 ? path[..slash] : "";

    /// <summary>bytes: the first model; reads: each read's bytes + 64 KiB (session 15); drill: what drills use now.</summary>
    private static readonly string[] Models = ["bytes", "reads", "drill"];

    private static double Model(RestoreSize size, Sample s, string model) => model switch
    {
        "bytes" => s.Seconds * size.Bytes / Math.Max(1, s.Bytes),
        "reads" => size.Extrapolate(TimeSpan.FromSeconds(s.Seconds), s.Reads, s.Stored).TotalSeconds,
        _ => size.Extrapolate(TimeSpan.FromSeconds(s.Seconds), s.Reads, s.Stored, TimeSpan.FromSeconds(s.Setup)).TotalSeconds,
    };

    /// <summary>DRILL_FLUSH=1: every restore (whole and sample) is timed until its data is on disk (<see cref="RestoreRequest.Flush"/>, as drills do).</summary>
    private static readonly bool Flush = Environment.GetEnvironmentVariable("DRILL_FLUSH") == "1";

    private static double Error(double estimate, double reference) => (estimate - reference) / reference * 100;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
