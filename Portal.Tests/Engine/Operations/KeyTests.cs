using System.Text;
using Portal.Engine;
using Portal.Engine.Operations;

namespace Portal.Tests.Engine.Operations;

public sealed class KeyTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task A_wrong_passphrase_has_its_own_clear_error_that_does_not_echo_it()
    {
        using (await _kit.InitAsync()) { }
        const string wrong = "this is not the passphrase!";
        var e = await Assert.ThrowsAsync<WrongPassphraseException>(() => BackupEngine.OpenAsync(_kit.Store, wrong, EngineTestKit.Options));
        Assert.Contains("Wrong passphrase", e.Message);
        Assert.DoesNotContain(wrong, e.ToString());
    }

    [Fact]
    public async Task A_passphrase_shorter_than_16_characters_is_refused()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => BackupEngine.InitAsync(_kit.Store, "short-secret", EngineTestKit.Options));
        Assert.Contains("16", e.Message);
        Assert.DoesNotContain("short-secret", e.Message);
        Assert.False(Directory.Exists(_kit.RepoDir) && Directory.EnumerateFileSystemEntries(_kit.RepoDir).Any()); // nothing written
    }

    [Fact]
    public async Task Opening_an_empty_store_says_there_is_no_repository_and_init_twice_is_refused()
    {
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => _kit.OpenAsync());
        using (await _kit.InitAsync()) { }
        await Assert.ThrowsAsync<RepositoryExistsException>(() => _kit.InitAsync());
    }

    [Fact]
    public async Task Changing_the_passphrase_rewraps_the_key_and_leaves_data_untouched()
    {
        _kit.Write("a.txt", "secret data");
        using (var engine = await _kit.InitAsync())
        {
            await engine.BackupAsync(new BackupRequest(_kit.Source));
            var dataBefore = Directory.GetFiles(Path.Combine(_kit.RepoDir, "data"), "*", SearchOption.AllDirectories);
            await engine.ChangePassphraseAsync("a brand new passphrase 2026");
            Assert.Equal(dataBefore, Directory.GetFiles(Path.Combine(_kit.RepoDir, "data"), "*", SearchOption.AllDirectories));
        }
        await Assert.ThrowsAsync<WrongPassphraseException>(() => _kit.OpenAsync());
        using var reopened = await BackupEngine.OpenAsync(_kit.Store, "a brand new passphrase 2026", EngineTestKit.Options);
        var target = _kit.NewTarget();
        await reopened.RestoreAsync(new RestoreRequest("latest", target));
        Assert.Equal("secret data", await File.ReadAllTextAsync(Path.Combine(target, "a.txt")));
        Assert.Single(Directory.GetFiles(Path.Combine(_kit.RepoDir, "keys")));
    }

    [Fact]
    public async Task The_store_sees_neither_content_nor_names_nor_the_passphrase()
    {
        _kit.Write("very-distinctive-file-name.txt", "very distinctive plaintext content " + new string('x', 1000));
        using (var engine = await _kit.InitAsync()) await engine.BackupAsync(new BackupRequest(_kit.Source));
        foreach (var file in Directory.GetFiles(_kit.RepoDir, "*", SearchOption.AllDirectories))
        {
            var text = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file));
            Assert.DoesNotContain("very distinctive", text);
            Assert.DoesNotContain("very-distinctive-file-name", text);
            Assert.DoesNotContain(EngineTestKit.Passphrase, text);
            Assert.DoesNotContain("xxxxxxxx", text);
        }
    }
}
