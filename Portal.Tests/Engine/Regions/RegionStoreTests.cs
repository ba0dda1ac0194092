using Portal.Engine.Regions;
using Portal.Engine.Replication;
using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Regions;

/// <summary>The one region store chain the portal and the CLI share: replicas in order, each retried, and the vault layout.</summary>
public sealed class RegionStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "region-store-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_vault_object_lands_in_every_replica_folder_under_the_vault_prefix()
    {
        var folders = Enumerable.Range(1, 3).Select(i => Path.Combine(_root, i.ToString())).ToList();
        var locations = folders.Select(ReplicaLocation.Folder).ToList();
        foreach (var l in locations) await l.PrepareAsync();
        var vaultId = Guid.NewGuid();

        var vault = VaultLayout.Open(RegionStore.Build(locations), vaultId);
        await vault.PutAsync("config", "hello"u8.ToArray());

        Assert.Equal($"vaults/{vaultId:N}", VaultLayout.Prefix(vaultId));
        foreach (var folder in folders)
            Assert.Equal("hello", File.ReadAllText(Path.Combine(folder, "vaults", vaultId.ToString("N"), "config")));
        Assert.Equal("hello"u8.ToArray(), await vault.GetAsync("config"));
    }

    [Fact]
    public void The_replicated_store_hook_gets_every_replica_retried_in_order_and_its_store_is_the_region_store()
    {
        var locations = new[] { "a", "b" }.Select(n => ReplicaLocation.Folder(Path.Combine(_root, n))).ToList();
        IReadOnlyList<IObjectStore>? seen = null;
        ReplicatedStore? made = null;

        var region = RegionStore.Build(locations, new RegionStoreOptions
        {
            Replicated = replicas => made = new ReplicatedStore(seen = replicas),
        });

        Assert.Same(made, region);
        Assert.Equal(2, seen!.Count);
        Assert.All(seen, s => Assert.IsType<RetryingStore>(s));
        Assert.Equal(Path.Combine(_root, "a"), locations[0].Description);
    }

    [Fact]
    public void A_throttled_vault_goes_through_the_bucket_and_an_azure_replica_never_names_its_secret()
    {
        var bucket = new TokenBucket(_ => 1_000_000, TimeProvider.System);
        Assert.IsType<ThrottledStore>(VaultLayout.Open(RegionStore.Build([ReplicaLocation.Folder(_root)]), Guid.NewGuid(), bucket));
        Assert.Equal("container vault-data", ReplicaLocation.AzureBlob("UseDevelopmentStorage=true", "vault-data").Description);
    }
}
