namespace Portal.Bench;
internal static class IndexProbe
{
    public static async Task RunAsync(string dir, string passphrase)
    {
        using var repo = await Portal.Engine.Repository.Repo.OpenAsync(new Portal.Engine.Storage.LocalDirectoryStore(dir), passphrase, TimeProvider.System, dir, default);
        for (var i = 0; i < 6; i++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var index = await Portal.Engine.Repository.MasterIndex.LoadAsync(repo, default);
            var t1 = sw.Elapsed.TotalMilliseconds;
            Console.WriteLine($"index load {t1:0.0} ms, {index.BlobCount} blobs");
        }
    }
}
