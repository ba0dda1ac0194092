using System.Diagnostics;
using Portal.Engine.Crypto;
using Portal.Engine.Repository;
using Portal.Engine.Storage;

namespace Portal.Bench;

/// <summary>
/// Opening a large repository (issue 24): adds CHUNKS synthetic chunks to an existing repository's index, as index
/// objects of 1,000 packs of 256 chunks each (16 MiB packs of 64 KiB chunks: 10,000,000 chunks is about 640 GiB), so a
/// later backup opens a repository of that size without the data being written. The packs do not exist: a check of
/// such a repository reports them missing; backups only look chunks up. `bench/open-scale.sh` times a no-change backup
/// of a 1,000,000-file item before and after.
/// </summary>
internal static class OpenScale
{
    public static async Task RunAsync(string repoDir, int chunks, string passphrase)
    {
        const int perPack = 256;
        var sw = Stopwatch.StartNew();
        var store = new LocalDirectoryStore(repoDir);
        using var repo = await Repo.OpenAsync(store, passphrase, TimeProvider.System, repoDir, default);
        var file = new List<IndexedPack>();
        var objects = 0;
        for (var start = 0; start < chunks; start += perPack)
        {
            var n = Math.Min(perPack, chunks - start);
            var blobs = new (BlobId, byte, uint, uint)[n];
            // Ids from a seed no real chunk shares (real ids are keyed hashes); offset 1 << 40 keeps them apart from IndexScale's.
            for (var j = 0; j < n; j++) blobs[j] = (IndexScale.Id((1L << 40) + start + j), Repo.DataBlob, (uint)(j * 65_600), 65_600u);
            file.Add(new IndexedPack(IndexScale.Id((1L << 41) + start / perPack, 7), blobs));
            if (file.Count == 1000)
            {
                await repo.SaveIndexAsync(file, default);
                objects++;
                file = [];
            }
        }
        if (file.Count > 0)
        {
            await repo.SaveIndexAsync(file, default);
            objects++;
        }
        Console.WriteLine($"open-scale: added {chunks:N0} chunks in {(chunks + perPack - 1) / perPack:N0} packs as {objects:N0} index objects in {sw.Elapsed.TotalSeconds:0.0} s");
    }
}
