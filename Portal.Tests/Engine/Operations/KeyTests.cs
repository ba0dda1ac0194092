using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Portal.Engine;
using Portal.Engine.Crypto;
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

    private string? _goodKey;

    /// <summary>Writes a copy of the repository's key object with <paramref name="change"/> applied, under its proper name.</summary>
    private async Task<string> PlantKeyAsync(Action<JsonObject> change)
    {
        var good = _goodKey ??= Directory.GetFiles(Path.Combine(_kit.RepoDir, "keys")).Single();
        var json = JsonNode.Parse(await File.ReadAllBytesAsync(good))!.AsObject();
        change(json);
        var bytes = Encoding.UTF8.GetBytes(json.ToJsonString());
        var name = "keys/" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        await _kit.Store.PutAsync(name, bytes);
        return name;
    }

    [Fact]
    public async Task Hostile_key_objects_next_to_a_good_one_are_skipped_with_a_warning_and_the_repository_opens()
    {
        _kit.Write("a.txt", "still readable");
        using (var engine = await _kit.InitAsync()) await engine.BackupAsync(new BackupRequest(_kit.Source));
        // Terabytes of memory (the C library refuses, the managed one would try to allocate them), zero passes, a
        // format from the future, and a wrapped key that is not base64: none may cost anything or stop the good key.
        var huge = await PlantKeyAsync(k => k["memoryKiB"] = int.MaxValue);
        var zero = await PlantKeyAsync(k => k["iterations"] = 0);
        var future = await PlantKeyAsync(k => k["version"] = 7);
        var garbled = await PlantKeyAsync(k => k["wrappedKey"] = "%%% not base64 %%%");
        await _kit.Store.PutAsync("keys/" + Convert.ToHexStringLower(SHA256.HashData("{not json"u8)), "{not json"u8.ToArray());

        using var opened = await _kit.OpenAsync();
        Assert.Equal(5, opened.OpenWarnings.Count);
        Assert.Contains(opened.OpenWarnings, w => w.Contains(huge) && w.Contains("memory") && w.Contains("allowed: 1 MiB to 512 MiB"));
        Assert.Contains(opened.OpenWarnings, w => w.Contains(zero) && w.Contains("0 passes"));
        Assert.Contains(opened.OpenWarnings, w => w.Contains(future) && w.Contains("format 7"));
        Assert.Contains(opened.OpenWarnings, w => w.Contains(garbled) && w.Contains("wrapped key is missing or malformed"));
        Assert.Contains(opened.OpenWarnings, w => w.Contains("not a readable key object"));
        var target = _kit.NewTarget();
        await opened.RestoreAsync(new RestoreRequest("latest", target));
        Assert.Equal("still readable", await File.ReadAllTextAsync(Path.Combine(target, "a.txt")));
    }

    [Fact]
    public async Task When_no_key_object_can_be_used_the_error_says_why_in_plain_words()
    {
        using (await _kit.InitAsync()) { }
        var good = Directory.GetFiles(Path.Combine(_kit.RepoDir, "keys")).Single();
        await PlantKeyAsync(k => k["parallelism"] = 100000);
        File.Delete(good);

        var e = await Assert.ThrowsAsync<NoUsableKeyException>(() => _kit.OpenAsync());
        Assert.Contains("No key object of this repository can be used", e.Message);
        Assert.Contains("100000 lanes (allowed: 1 to 16)", e.Message);
        Assert.DoesNotContain("Exception", e.Message);
    }

    [Fact]
    public async Task A_wrong_passphrase_with_a_hostile_key_object_present_is_still_a_wrong_passphrase_naming_the_skipped_key()
    {
        using (await _kit.InitAsync()) { }
        var hostile = await PlantKeyAsync(k => k["memoryKiB"] = 8 * 1024 * 1024);
        var e = await Assert.ThrowsAsync<WrongPassphraseException>(() => BackupEngine.OpenAsync(_kit.Store, "not the passphrase at all", EngineTestKit.Options));
        Assert.Contains("Wrong passphrase", e.Message);
        Assert.Contains($"'{hostile}' was skipped: its key derivation asks for 8192 MiB of memory", e.Message);
    }

    [Fact]
    public async Task A_key_derivation_cost_out_of_range_is_refused_before_anything_is_written()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            BackupEngine.InitAsync(_kit.Store, EngineTestKit.Passphrase, new EngineOptions { Kdf = new KdfParameters(MemoryKiB: 1024, Iterations: 0, Parallelism: 1) }));
        Assert.Contains("The key derivation settings are out of range: they ask for 0 passes", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_kit.RepoDir, "keys")) && Directory.EnumerateFiles(Path.Combine(_kit.RepoDir, "keys")).Any());
    }
}
