using Portal.Engine.Operations;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Policies;

namespace Portal.Features.Protection;

/// <summary>The rules of protecting items, with the message a user needs for each broken one.</summary>
public static class ProtectionRules
{
    public const int PassphraseMinLength = Engine.Crypto.PassphraseRules.MinLength;
    public const int NameMaxLength = 256;

    /// <summary>The longest folder path (Linux's PATH_MAX).</summary>
    public const int PathMaxLength = 4096;

    /// <summary>The most text the include or exclude box holds (within FieldLimits.CircuitMessageBytes), and the longest single pattern.</summary>
    public const int PatternsMaxLength = 8 * 1024, PatternMaxLength = 1024;

    /// <summary>Null when the passphrase is acceptable, else what is wrong (Azure's rule: at least 16 characters; not a repetition).</summary>
    public static string? CheckPassphrase(string? passphrase) =>
        string.IsNullOrEmpty(passphrase) ? "Type a passphrase for the vault: it encrypts the vault's backup data."
        : Engine.Crypto.PassphraseRules.Problem(passphrase);

    /// <summary>A hint at the passphrase's strength, from its length and the kinds of characters it mixes.</summary>
    public static PassphraseStrength Strength(string? passphrase)
    {
        if (string.IsNullOrEmpty(passphrase) || passphrase.Length < PassphraseMinLength)
            return PassphraseStrength.TooShort;
        var kinds = new[] { passphrase.Any(char.IsLower), passphrase.Any(char.IsUpper), passphrase.Any(char.IsDigit), passphrase.Any(c => !char.IsLetterOrDigit(c)) }.Count(k => k);
        var distinct = passphrase.Distinct().Count();
        if (distinct < 6)
            return PassphraseStrength.Weak;
        var score = passphrase.Length + 4 * kinds;
        return score >= 32 ? PassphraseStrength.Strong : score >= 24 ? PassphraseStrength.Fair : PassphraseStrength.Weak;
    }

    /// <summary>
    /// Null when <paramref name="path"/> is an existing folder under one of <paramref name="roots"/>, else why not.
    /// <paramref name="fullPath"/> is the normalised absolute path.
    /// </summary>
    public static string? CheckSourcePath(string? path, IReadOnlyList<string> roots, out string fullPath)
    {
        fullPath = "";
        if (string.IsNullOrWhiteSpace(path))
            return "Give the folder to back up, such as /srv/share.";
        if (path.Length > PathMaxLength)
            return $"A folder path has at most {PathMaxLength} characters.";
        if (!Path.IsPathFullyQualified(path.Trim()))
            return $"\"{path}\" is not an absolute path: give the full path of the folder, such as /srv/share.";
        fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path.Trim()));
        if (roots.Count == 0)
            return "No folders may be protected on this portal yet: an administrator must list the allowed folders in Protection:SourceRoots.";
        if (!SafePaths.IsUnderAny(fullPath, roots))
            return $"{fullPath} is outside the folders this portal may back up ({string.Join(", ", roots)}).";
        if (!Directory.Exists(fullPath))
            return $"The folder {fullPath} does not exist on the portal host.";
        return null;
    }

    /// <summary>
    /// A folder on a registered machine: an absolute path, normalised (its existence is the machine's to check: the first
    /// backup says so if it is missing).
    /// </summary>
    public static string? CheckMachinePath(string? path, string machine, out string fullPath)
    {
        fullPath = "";
        if (string.IsNullOrWhiteSpace(path))
            return $"Give the folder on {machine} to back up, such as /srv/share.";
        if (path.Length > PathMaxLength)
            return $"A folder path has at most {PathMaxLength} characters.";
        var trimmed = path.Trim();
        if (!trimmed.StartsWith('/') || trimmed.Contains('\0'))
            return $"\"{path}\" is not an absolute path: give the full path of the folder on {machine}, such as /srv/share.";
        fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(trimmed));
        return null;
    }

    /// <summary>Whether two absolute folders overlap: the same folder, or one inside the other.</summary>
    public static bool Overlap(string a, string b)
    {
        static string Slash(string p) => p.EndsWith('/') ? p : p + "/";
        return a == b || Slash(a).StartsWith(Slash(b), StringComparison.Ordinal) || Slash(b).StartsWith(Slash(a), StringComparison.Ordinal);
    }

    /// <summary>Null when every pattern is valid, else the first problem.</summary>
    public static string? CheckPatterns(IEnumerable<string>? patterns)
    {
        var given = (patterns ?? []).Where(p => !string.IsNullOrWhiteSpace(p)).ToList();
        if (given.Sum(p => p.Length + 1) > PatternsMaxLength)
            return $"The patterns have at most {PatternsMaxLength / 1024} KB of text together: use wider patterns, such as **/*.tmp.";
        if (given.FirstOrDefault(p => p.Length > PatternMaxLength) is not null)
            return $"A pattern has at most {PatternMaxLength} characters.";
        return given.Select(PathFilter.Check).FirstOrDefault(e => e is not null);
    }

    public static string? CheckName(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "Give the item a name."
        : name.Trim().Length > NameMaxLength ? $"An item name has at most {NameMaxLength} characters."
        : name.Any(char.IsControl) ? "An item name cannot contain control characters."
        : null;

    /// <summary>
    /// Health as Azure shows it: failed, warning, RPO breached, healthy; stopped items are their own kind. An item with no
    /// recovery point is never healthy: it is "not backed up yet", a warning once the policy's first scheduled backup
    /// after protection has passed, and RPO breached once it is older than the policy's target plus grace.
    /// </summary>
    public static ItemHealth Health(ProtectionState state, JobStatus? lastBackup, DateTime? latestPointAt, DateTime createdAt, PolicyDefinition? policy, DateTime nowUtc)
    {
        if (state != ProtectionState.Protected)
            return ItemHealth.ProtectionStopped;
        if (lastBackup == JobStatus.Failed)
            return ItemHealth.Failed;
        if (policy is not null)
        {
            var limit = PolicySchedules.RpoTarget(policy.Schedule) + PolicySchedules.RpoGrace(policy.Schedule);
            if (nowUtc - (latestPointAt ?? createdAt) > limit)
                return ItemHealth.RpoBreached;
        }

        if (latestPointAt is null)
            return FirstBackupDue(policy, createdAt) is { } due && nowUtc > due ? ItemHealth.FirstBackupOverdue : ItemHealth.NotBackedUpYet;
        return lastBackup == JobStatus.CompletedWithWarnings ? ItemHealth.Warning : ItemHealth.Healthy;
    }

    /// <summary>When the policy first backs up an item protected at <paramref name="createdAt"/> (null without a schedule).</summary>
    public static DateTime? FirstBackupDue(PolicyDefinition? policy, DateTime createdAt) =>
        policy is null ? null : PolicySchedules.NextRunUtc(policy.Schedule, createdAt);
}

public enum PassphraseStrength
{
    TooShort,
    Weak,
    Fair,
    Strong,
}
