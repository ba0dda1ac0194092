namespace Portal.Engine.Crypto;

/// <summary>
/// What a new passphrase must be, in one place for the engine, the CLI, the agent and the portal: at least
/// <see cref="MinLength"/> characters (Azure Backup's rule for the MARS agent), and not trivially weak (a run of one or
/// a few characters repeated, which a length rule alone lets through).
/// </summary>
public static class PassphraseRules
{
    /// <summary>The fewest characters a new passphrase may have.</summary>
    public const int MinLength = 16;

    /// <summary>Fewer different characters than this is a repetition, not a passphrase ("aaaa…", "abab…").</summary>
    public const int MinDistinctCharacters = 5;

    /// <summary>Null when <paramref name="passphrase"/> is acceptable for a new key, else what is wrong and what to do.</summary>
    public static string? Problem(string passphrase)
    {
        if (passphrase.Length < MinLength)
            return $"The passphrase has {passphrase.Length} characters; use at least {MinLength} (a few words make a good one).";
        var distinct = passphrase.Distinct().Count();
        if (distinct < MinDistinctCharacters)
            return $"The passphrase repeats {(distinct == 1 ? "one character" : $"only {distinct} different characters")}: anyone could guess it. " +
                   "Use a few unrelated words instead.";
        return null;
    }
}
