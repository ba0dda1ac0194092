using System.Diagnostics;
using Portal.Engine;
using Portal.Engine.Crypto;
using Portal.Engine.Operations;
using Portal.Engine.Replication;
using Portal.Engine.Storage;

namespace Portal.Bench;

/// <summary>
/// "regions SOURCE PRIMARY_PORT SECONDARY_PORT": backup of SOURCE to a local folder, to LRS over three local folders,
/// and to LRS over three containers of an Azurite on PRIMARY_PORT (the portal's layout: retry decorator per replica,
/// ReplicatedStore, vault prefix); then GRS replication of that vault to three containers of the Azurite on
/// SECONDARY_PORT. Prints seconds and MB/s. A benchmark: noisy, compare within one run.
/// </summary>
internal static class RegionBench
{
    private const string Passphrase = "region-bench-passphrase-0123";
    private static readonly EngineOptions Options = new() { Kdf = new KdfParameters(MemoryKiB: 1024, Iterations: 1, Parallelism: 1) };

    public static async Task RunAsync(string source, IReadOnlyList<int> primaryPorts, int secondaryPort)
    {
        var work = Directory.CreateTempSubdirectory("portal-region-bench-").FullName;
        try
        {
            // A warm-up first (JIT, the source in the page cache), then each target twice, interleaved.
            await BackupAsync("warm-up (local folder)", new LocalDirectoryStore(Path.Combine(work, "warm-up")), source);
            double local = 0, azure = 0;
            IObjectStore primary = null!;
            for (var round = 1; round <= 2; round++)
            {
                local += await BackupAsync($"local folder #{round}", new LocalDirectoryStore(Path.Combine(work, $"local-{round}")), source);
                await BackupAsync($"LRS, 3 local folders #{round}", Lrs(Enumerable.Range(1, 3).Select(i => (IObjectStore)new LocalDirectoryStore(Path.Combine(work, $"lrs-{round}-{i}")))), source);
                primary = Lrs(await ContainersAsync(primaryPorts, $"bench-primary-{round}"));
                azure += await BackupAsync(primaryPorts.Count == 1 ? $"LRS, 3 Azurite containers #{round}" : $"LRS, 3 Azurite accounts #{round}", primary, source);
            }
            Console.WriteLine($"LRS on Azurite / local folder (sum of both rounds): {azure / local:0.00}x");

            var secondary = Lrs(await ContainersAsync([secondaryPort], "bench-secondary"));
            var sw = Stopwatch.StartNew();
            var result = await new RegionReplicator(primary, secondary).ReplicateAsync();
            sw.Stop();
            Console.WriteLine($"GRS replication to the secondary Azurite (3 containers): {result.ObjectsCopied} objects, " +
                $"{result.BytesCopied / 1e6:0.0} MB in {sw.Elapsed.TotalSeconds:0.00} s = {result.BytesCopied / 1e6 / sw.Elapsed.TotalSeconds:0.0} MB/s");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static IObjectStore Lrs(IEnumerable<IObjectStore> replicas) =>
        new PrefixedStore(new ReplicatedStore([.. replicas.Select(r => (IObjectStore)new RetryingStore(r))]), "vaults/bench");

    /// <summary>Three containers: on one Azurite, or one on each of three (three accounts, as production would use).</summary>
    private static async Task<List<IObjectStore>> ContainersAsync(IReadOnlyList<int> ports, string name)
    {
        var stores = new List<IObjectStore>();
        for (var i = 1; i <= 3; i++)
        {
            var connection = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
                "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
                $"BlobEndpoint=http://127.0.0.1:{ports[(i - 1) % ports.Count]}/devstoreaccount1;";
            var store = AzureBlobStore.FromConnectionString(connection, $"{name}-{i}-{Guid.NewGuid():N}"[..40]);
            await store.CreateContainerIfMissingAsync();
            stores.Add(store);
        }
        return stores;
    }

    private static async Task<double> BackupAsync(string label, IObjectStore store, string source)
    {
        using var engine = await BackupEngine.InitAsync(store, Passphrase, Options);
        var sw = Stopwatch.StartNew();
        var r = await engine.BackupAsync(new BackupRequest(source));
        sw.Stop();
        Console.WriteLine($"{label,-28} backup {sw.Elapsed.TotalSeconds,6:0.00} s  {r.Bytes / 1e6 / sw.Elapsed.TotalSeconds,6:0.0} MB/s of source  " +
            $"stored {r.BytesAdded / 1e6:0.0} MB");
        return sw.Elapsed.TotalSeconds;
    }
}
