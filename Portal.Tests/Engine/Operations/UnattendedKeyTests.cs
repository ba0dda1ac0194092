using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Operations;

/// <summary>A host keeps the unwrapped key (sealed) to run scheduled backups without the passphrase.</summary>
public sealed class UnattendedKeyTests : IDisposable
{
    private readonly EngineTestKit kit = new();

    public void Dispose() => kit.Dispose();

    [Fact]
    public async Task An_exported_key_opens_the_repository_for_backup_and_restore_without_the_passphrase()
    {
        kit.WriteMixedTree();
        RepositoryKey key;
        using (var engine = await kit.InitAsync())
            key = engine.ExportKey();

        using (var unattended = await BackupEngine.OpenWithKeyAsync(kit.Store, new RepositoryKey(key.ToBytes()), EngineTestKit.Options))
            await unattended.BackupAsync(new BackupRequest(kit.Source));

        using var withPassphrase = await kit.OpenAsync();
        var target = kit.NewTarget();
        Assert.Empty((await withPassphrase.RestoreAsync(new RestoreRequest("latest", target))).Errors);
        EngineTestKit.AssertSameTree(kit.Source, target);
        Assert.Equal("RepositoryKey(hidden)", key.ToString());
    }

    [Fact]
    public async Task Another_repositorys_key_is_refused_with_its_own_clear_error()
    {
        using (await kit.InitAsync()) { }
        var otherStore = new LocalDirectoryStore(Path.Combine(kit.Root, "other"));
        RepositoryKey foreign;
        using (var other = await BackupEngine.InitAsync(otherStore, EngineTestKit.Passphrase, EngineTestKit.Options))
            foreign = other.ExportKey();

        var error = await Assert.ThrowsAsync<RepositoryKeyMismatchException>(() => BackupEngine.OpenWithKeyAsync(kit.Store, foreign, EngineTestKit.Options));

        Assert.Contains("does not open this repository", error.Message);
    }

    [Fact]
    public async Task Changing_the_passphrase_needs_an_engine_opened_with_the_passphrase()
    {
        RepositoryKey key;
        using (var engine = await kit.InitAsync())
            key = engine.ExportKey();
        using var unattended = await BackupEngine.OpenWithKeyAsync(kit.Store, key, EngineTestKit.Options);

        var error = await Assert.ThrowsAsync<RepositoryException>(() => unattended.ChangePassphraseAsync("a brand new passphrase 123"));

        Assert.Contains("current passphrase", error.Message);
        using var stillOld = await kit.OpenAsync();
    }
}
