using System.Diagnostics;
using Portal.Engine.Crypto;
using Portal.Engine.Repository;

namespace Portal.Bench;

/// <summary>
/// Repository scale (issue 24): an index of N chunks (default 10,000,000, about 640 GiB at 64 KiB chunks),
/// synthesised in memory (no data and no index objects are written), held by the engine's own <see cref="MasterIndex"/>.
/// Prints the bytes the index holds per chunk (managed heap after a full collection, before minus after) and lookups
/// per second on one thread, for chunks that are there (a backup of data already stored) and chunks that are not
/// (new data), in random order, several rounds. Ids are uniform 256-bit values like the keyed hashes of real chunks.
/// </summary>
internal static class IndexScale
{
    public static void Run(int chunks, int rounds)
    {
        const int perPack = 256; // 16 MiB packs of 64 KiB chunks
        Console.WriteLine($"index-scale: {chunks:N0} chunks in {(chunks + perPack - 1) / perPack:N0} packs, {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Trim()}");
        var before = GC.GetTotalMemory(true);
        var sw = Stopwatch.StartNew();
        // As a repository is opened: index objects of 1,000 packs each, parsed, then one table build.
        var index = new MasterIndex();
        var builder = index.StartBuild();
        var file = new List<IndexedPack>();
        for (var start = 0; start < chunks; start += perPack)
        {
            var n = Math.Min(perPack, chunks - start);
            var blobs = new (BlobId, byte, uint, uint)[n];
            for (var j = 0; j < n; j++) blobs[j] = (Id(start + j), Repo.DataBlob, (uint)(j * 65_600), 65_600u);
            file.Add(new IndexedPack(Id(int.MaxValue - start / perPack, 7), blobs));
            if (file.Count == 1000) { builder.Add(file); file = []; }
        }
        builder.Add(file);
        var parsed = sw.Elapsed.TotalSeconds;
        builder.Finish();
        var build = sw.Elapsed.TotalSeconds;
        var after = GC.GetTotalMemory(true);
        Console.WriteLine($"synthesised and parsed in {parsed:0.00} s, table built in {build - parsed:0.00} s; table {index.TableBytes / (double)chunks:0.0} bytes a chunk; held {(after - before) / (double)chunks:0.0} bytes a chunk ({(after - before) / 1048576.0:0} MiB managed); " +
                          $"process RSS {Rss("VmRSS") / 1024:0} MiB, peak {Rss("VmHWM") / 1024:0} MiB; {index.BlobCount:N0} blobs");

        Console.WriteLine($"huge pages in use: {Rss("AnonHugePages", "/proc/self/smaps_rollup") / 1024:0} MiB");
        const int queries = 2_000_000;
        var rng = new Random(24);
        var hits = new BlobId[queries];
        var misses = new BlobId[queries];
        for (var i = 0; i < queries; i++)
        {
            hits[i] = Id(rng.Next(chunks));
            misses[i] = Id(chunks + rng.Next(int.MaxValue - chunks));
        }
        for (var r = 0; r < rounds; r++)
        {
            var (hitRate, hitWall, found) = Lookups(index, hits);
            var (missRate, missWall, wrong) = Lookups(index, misses);
            if (found != queries || wrong != 0) throw new InvalidOperationException($"lookup results are wrong: {found} hits, {wrong} false hits");
            var (rawHit, _) = Raw(index.Table, hits);
            var (rawMiss, _) = Raw(index.Table, misses);
            Console.WriteLine($"round {r + 1}: the table alone (no lock, no pack id): hits {rawHit / 1e6:0.00}, misses {rawMiss / 1e6:0.00} M per CPU-second");
            Console.WriteLine($"round {r + 1}: hits {hitRate / 1e6:0.00} M per CPU-second ({hitWall / 1e6:0.00} M/s wall), misses {missRate / 1e6:0.00} M per CPU-second ({missWall / 1e6:0.00} M/s wall); one thread");
        }
        GC.KeepAlive(index);
    }

    /// <summary>Lookups per CPU-second of this process (the machine is shared: wall time says more about the neighbours), and per wall second.</summary>
    private static (double PerCpuSecond, double PerSecond, int Found) Lookups(MasterIndex index, BlobId[] ids)
    {
        var found = 0;
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        foreach (var id in ids)
            if (index.TryGet(id, out _, out _)) found++;
        var wall = sw.Elapsed.TotalSeconds;
        process.Refresh();
        return (ids.Length / (process.TotalProcessorTime - cpu).TotalSeconds, ids.Length / wall, found);
    }

    private static (double PerCpuSecond, int Found) Raw(BlobTable table, BlobId[] ids)
    {
        var found = 0;
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        foreach (var id in ids)
            if (table.Find(id) >= 0) found++;
        process.Refresh();
        return (ids.Length / (process.TotalProcessorTime - cpu).TotalSeconds, found);
    }

    /// <summary>A uniform 256-bit id for chunk <paramref name="i"/> (splitmix64 of i and the salt).</summary>
    internal static BlobId Id(long i, long salt = 0)
    {
        Span<byte> b = stackalloc byte[32];
        var x = (ulong)i * 4 + (ulong)salt * 0x1000_0000_0000;
        for (var k = 0; k < 4; k++) BitConverter.TryWriteBytes(b[(k * 8)..], Mix(x + (ulong)k));
        return new BlobId(b);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    private static double Rss(string field, string file = "/proc/self/status")
    {
        foreach (var line in File.ReadLines(file))
            if (line.StartsWith(field + ":", StringComparison.Ordinal)) return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return 0;
    }
}
