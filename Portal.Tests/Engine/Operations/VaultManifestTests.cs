using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Regions;
using Portal.Engine.Replication;
using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Operations;

/// <summary>The vault manifest: a sealed document the portal rebuilds its catalog from, kept by check, prune and replication.</summary>
public sealed class VaultManifestTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task The_newest_manifest_is_read_back_the_older_one_is_removed_and_nothing_is_in_plain_text()
    {
        using var engine = await _kit.InitAsync();
        Assert.Null(await engine.ReadVaultManifestAsync());

        await engine.WriteVaultManifestAsync("""{"name":"finance-secret-word","items":1}""");
        await engine.WriteVaultManifestAsync("""{"name":"finance-secret-word","items":2}""");

        using var reopened = await _kit.OpenAsync();
        Assert.Equal("""{"name":"finance-secret-word","items":2}""", (await reopened.ReadVaultManifestAsync())!.Document);
        var objects = Directory.GetFiles(Path.Combine(_kit.RepoDir, "vault"), "*", SearchOption.AllDirectories);
        Assert.Single(objects);
        Assert.DoesNotContain("finance-secret-word", File.ReadAllText(objects[0])); // sealed with the repository key
    }

    [Fact]
    public async Task Check_stays_healthy_and_prune_never_deletes_the_manifest()
    {
        _kit.Write("a.txt", "alpha");
        using var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source));
        await engine.WriteVaultManifestAsync("""{"items":["a"]}""");
        await engine.ForgetAsync([first.SnapshotId]);

        await engine.PruneAsync();
        var check = await engine.CheckAsync(readData: true);

        Assert.True(check.IsHealthy, string.Join("; ", check.Problems));
        Assert.Equal("""{"items":["a"]}""", (await engine.ReadVaultManifestAsync())!.Document);
    }

    [Fact]
    public async Task Replication_copies_the_manifest_to_the_paired_region_and_a_region_names_the_vaults_it_holds()
    {
        var east = new LocalDirectoryStore(Path.Combine(_kit.Root, "east"));
        var west = new LocalDirectoryStore(Path.Combine(_kit.Root, "west"));
        var vaultId = Guid.NewGuid();
        using (var engine = await BackupEngine.InitAsync(VaultLayout.Open(east, vaultId), EngineTestKit.Passphrase, EngineTestKit.Options))
            await engine.WriteVaultManifestAsync("""{"name":"finance"}""");

        await new RegionReplicator(VaultLayout.Open(east, vaultId), VaultLayout.Open(west, vaultId)).ReplicateAsync();

        using var secondary = await BackupEngine.OpenAsync(VaultLayout.Open(west, vaultId), EngineTestKit.Passphrase, EngineTestKit.Options);
        Assert.Equal("""{"name":"finance"}""", (await secondary.ReadVaultManifestAsync())!.Document);
        Assert.Equal([vaultId], await VaultLayout.FindVaultsAsync(east));
        Assert.Empty(await VaultLayout.FindVaultsAsync(new LocalDirectoryStore(Path.Combine(_kit.Root, "empty"))));
    }
}
