using Portal.Engine.Repository;
using Portal.Engine.Storage;

namespace Portal.Bench;

/// <summary>"stats REPO": what the packs hold, by blob type, and duplicates (a diagnostic).</summary>
internal static class RepoStats
{
    public static async Task RunAsync(string dir, string passphrase)
    {
        using var repo = await Repo.OpenAsync(new LocalDirectoryStore(dir), passphrase, TimeProvider.System, dir, default);
        long[] bytes = new long[2], count = new long[2];
        var seen = new HashSet<Portal.Engine.Crypto.BlobId>();
        long dupBytes = 0;
        foreach (var name in await repo.ListNamesAsync(Repo.IndexPrefix, default))
        {
            foreach (var p in await repo.LoadIndexAsync(name, default))
            foreach (var b in p.Blobs)
            {
                bytes[b.Type] += b.Length;
                count[b.Type]++;
                if (!seen.Add(b.Id)) dupBytes += b.Length;
            }
        }
        Console.WriteLine($"data blobs {count[0]} = {bytes[0] / 1048576.0:0.0} MiB, tree blobs {count[1]} = {bytes[1] / 1048576.0:0.0} MiB, duplicates {dupBytes / 1048576.0:0.0} MiB");
    }
}
