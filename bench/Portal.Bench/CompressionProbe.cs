using System.Diagnostics;
using Portal.Engine.Chunking;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;

namespace Portal.Bench;

/// <summary>
/// "levels DIR [1,3,6]": what a first backup of DIR would store at each zstd level, and what compressing costs. Cuts
/// every file as a backup does (FastCDC, the repository's parameters), keeps each distinct chunk once, and seals it
/// through <see cref="BlobCodec"/> at every level given (the stored bytes of data blobs: compression id, zstd frame,
/// AES-GCM), timing the encode on one thread. Also prints, for comparison, each file of at most 512 KiB compressed
/// whole (restic's chunks are 512 KiB to 8 MiB, so it compresses such files in one piece while ours cuts them at
/// 16-512 KiB), and what a zstd dictionary trained on the small chunks would save (PORTAL_PROBE_DICT=1).
/// A diagnostic of sizes: not a benchmark of the pipeline.
/// </summary>
internal static class CompressionProbe
{
    private const int Small = 16 * 1024, WholeLimit = 512 * 1024;

    public static void Run(string dir, int[] levels)
    {
        using var key = MasterKey.CreateRandom();
        var cdc = new FastCdc(key.GearTable(), ChunkerParams.Default);
        var chunks = new ChunkStream(cdc, new byte[ChunkStream.BufferSize(ChunkerParams.Default)]);
        var aad = new byte[33];
        var seen = new HashSet<BlobId>();
        var sealedSmall = new long[levels.Length];
        var sealedLarge = new long[levels.Length];
        var whole = new long[levels.Length];
        var wholeChunked = new long[levels.Length];
        var time = levels.Select(_ => new Stopwatch()).ToArray();
        var smallChunks = Environment.GetEnvironmentVariable("PORTAL_PROBE_DICT") == "1" ? new List<byte[]>() : null;
        long bytes = 0, distinctBytes = 0, smallBytes = 0, files = 0, count = 0, smallCount = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        var paths = Directory.EnumerateFiles(dir, "*", options).ToList();
        paths.Sort(StringComparer.Ordinal);
        foreach (var file in paths)
        {
            var data = File.ReadAllBytes(file);
            files++;
            bytes += data.Length;
            var fileChunks = new List<long>(); // this file's chunk sizes at each level, for the whole-file comparison
            var fileSealed = new long[levels.Length];
            using var ms = new MemoryStream(data);
            chunks.Reset(ms);
            while (true)
            {
                var chunk = chunks.Next(default);
                if (chunk.IsEmpty) break;
                if (!seen.Add(key.Id(chunk.Span))) continue;
                count++;
                distinctBytes += chunk.Length;
                var small = chunk.Length < Small;
                if (small)
                {
                    smallCount++;
                    smallBytes += chunk.Length;
                    smallChunks?.Add(chunk.ToArray());
                }
                for (var l = 0; l < levels.Length; l++)
                {
                    time[l].Start();
                    using var s = BlobCodec.EncodePooled(key, chunk.Span, aad, levels[l]);
                    time[l].Stop();
                    (small ? sealedSmall : sealedLarge)[l] += s.Length;
                    fileSealed[l] += s.Length;
                }
            }
            if (data.Length <= WholeLimit && data.Length > 0)
            {
                for (var l = 0; l < levels.Length; l++)
                {
                    using var s = BlobCodec.EncodePooled(key, data, aad, levels[l]);
                    whole[l] += s.Length;
                    wholeChunked[l] += fileSealed[l];
                }
            }
        }
        Console.WriteLine($"{files} files, {bytes / 1048576.0:0.0} MiB; {count} distinct chunks = {distinctBytes / 1048576.0:0.0} MiB " +
            $"({smallCount} under 16 KiB = {smallBytes / 1048576.0:0.0} MiB); zstd {(ZstdContext.IsNative ? "native" : "managed")}");
        for (var l = 0; l < levels.Length; l++)
        {
            Console.WriteLine($"level {levels[l],2}: sealed {(sealedSmall[l] + sealedLarge[l]) / 1048576.0:0.00} MiB " +
                $"(small chunks {sealedSmall[l] / 1048576.0:0.00}, others {sealedLarge[l] / 1048576.0:0.00}) in {time[l].Elapsed.TotalSeconds:0.00} s; " +
                $"files <= 512 KiB as chunks {wholeChunked[l] / 1048576.0:0.00} MiB, whole {whole[l] / 1048576.0:0.00} MiB");
        }
        if (smallChunks is { Count: > 100 }) DictionaryProbe(smallChunks, levels);
    }

    /// <summary>The small chunks compressed with a dictionary of 112 KiB trained on every 10th of them (zstd's default size).</summary>
    private static void DictionaryProbe(List<byte[]> small, int[] levels)
    {
        var sw = Stopwatch.StartNew();
        var samples = small.Where((_, i) => i % 10 == 0).ToList();
        var dict = ZstdSharp.DictBuilder.TrainFromBuffer(samples);
        Console.WriteLine($"dictionary: {dict.Length} bytes trained on {samples.Count} samples in {sw.Elapsed.TotalSeconds:0.0} s");
        foreach (var level in levels)
        {
            using var plain = new ZstdSharp.Compressor(level);
            using var withDict = new ZstdSharp.Compressor(level);
            withDict.LoadDictionary(dict);
            long a = 0, b = 0;
            foreach (var c in small)
            {
                a += Math.Min(plain.Wrap(c).Length, c.Length);
                b += Math.Min(withDict.Wrap(c).Length, c.Length);
            }
            Console.WriteLine($"level {level,2}: small chunks' zstd frames {a / 1048576.0:0.00} MiB, with the dictionary {b / 1048576.0:0.00} MiB");
        }
    }
}
