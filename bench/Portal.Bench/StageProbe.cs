using System.Diagnostics;
using Portal.Engine.Chunking;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Repository;

namespace Portal.Bench;

/// <summary>
/// "probe DIR": runs each backup stage over a real folder on one thread and prints where the time goes
/// (read, chunk, keyed hash, compress+seal). A diagnostic, not a benchmark of the pipeline.
/// </summary>
internal static class StageProbe
{
    public static void Run(string dir)
    {
        using var key = MasterKey.CreateRandom();
        var cdc = new FastCdc(key.GearTable(), ChunkerParams.Default);
        var buffer = new byte[ChunkStream.BufferSize(ChunkerParams.Default)];
        var chunks = new ChunkStream(cdc, buffer);
        var aad = new byte[33];
        var sw = new Stopwatch[6].Select(_ => new Stopwatch()).ToArray();
        long bytes = 0, count = 0, sealedBytes = 0, compressed = 0;
        foreach (var file in Directory.EnumerateFiles(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }))
        {
            var data = File.ReadAllBytes(file);
            bytes += data.Length;
            using var ms = new MemoryStream(data);
            chunks.Reset(ms);
            while (true)
            {
                sw[0].Start();
                var chunk = chunks.Next(default);
                sw[0].Stop();
                if (chunk.IsEmpty) break;
                count++;
                sw[1].Start();
                var id = key.Id(chunk.Span);
                sw[1].Stop();
                sw[2].Start();
                using var s = BlobCodec.EncodePooled(key, chunk.Span, aad);
                sw[2].Stop();
                sealedBytes += s.Length;
                var tmp = System.Buffers.ArrayPool<byte>.Shared.Rent(ZstdContext.CompressBound(chunk.Length) + 64);
                sw[3].Start();
                ZstdContext.Compress(chunk.Span, tmp, BlobCodec.Level);
                sw[3].Stop();
                sw[4].Start();
                Sealer.Seal(key, chunk.Span, aad, tmp.AsSpan(0, chunk.Length + Sealer.Overhead));
                sw[4].Stop();
                System.Buffers.ArrayPool<byte>.Shared.Return(tmp);
                if (s.Length < chunk.Length) compressed++;
                _ = id;
            }
        }
        Console.WriteLine($"{bytes / 1048576.0:0} MiB in {count} chunks ({compressed} compressed) -> {sealedBytes / 1048576.0:0.0} MiB sealed");
        Console.WriteLine($"chunk {sw[0].Elapsed.TotalSeconds:0.00}s  hash {sw[1].Elapsed.TotalSeconds:0.00}s  compress+seal {sw[2].Elapsed.TotalSeconds:0.00}s (zstd alone {sw[3].Elapsed.TotalSeconds:0.00}s, seal alone {sw[4].Elapsed.TotalSeconds:0.00}s; zstd {(ZstdContext.IsNative ? "native" : "managed")})");
    }
}
