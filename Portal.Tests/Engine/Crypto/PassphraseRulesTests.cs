using Portal.Engine;
using Portal.Engine.Crypto;

namespace Portal.Tests.Engine.Crypto;

/// <summary>One rule for new passphrases (engine, CLI, agent, portal): 16 characters or more, and not a repetition of a few.</summary>
public sealed class PassphraseRulesTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Theory]
    [InlineData("short", "The passphrase has 5 characters; use at least 16 (a few words make a good one).")]
    [InlineData("aaaaaaaaaaaaaaaaaaaa", "The passphrase repeats one character: anyone could guess it. Use a few unrelated words instead.")]
    [InlineData("abcdabcdabcdabcdabcd", "The passphrase repeats only 4 different characters: anyone could guess it. Use a few unrelated words instead.")]
    [InlineData("correct horse battery staple", null)]
    [InlineData("abcdeabcdeabcdeabcde", null)]
    public void A_new_passphrase_is_judged_in_words(string passphrase, string? problem) =>
        Assert.Equal(problem, PassphraseRules.Problem(passphrase));

    [Fact]
    public async Task The_engine_refuses_to_make_a_repository_with_a_guessable_passphrase_and_writes_nothing()
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => BackupEngine.InitAsync(_kit.Store, "zzzzzzzzzzzzzzzzzzzz", EngineTestKit.Options));
        Assert.StartsWith("The passphrase repeats one character", refused.Message);
        Assert.False(Directory.Exists(_kit.RepoDir) && Directory.EnumerateFileSystemEntries(_kit.RepoDir).Any());
    }
}
