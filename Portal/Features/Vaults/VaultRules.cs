using System.Text.RegularExpressions;
using Portal.Features.Regions;

namespace Portal.Features.Vaults;

/// <summary>Azure's vault rules, in one place for the service and the create dialog.</summary>
public static partial class VaultRules
{
    public const int NameMinLength = 2;
    public const int NameMaxLength = 50;
    public const int DefaultSoftDeleteDays = 14;
    public const int MinSoftDeleteDays = 14;
    public const int MaxSoftDeleteDays = 180;

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9-]*$")]
    private static partial Regex NamePattern();

    /// <summary>What is wrong with a proposed vault name, or null when it is valid.</summary>
    public static string? CheckName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return "Enter a vault name.";
        if (name.Length is < NameMinLength or > NameMaxLength)
            return $"A vault name has {NameMinLength} to {NameMaxLength} characters; this one has {name.Length}.";
        if (name.FirstOrDefault(c => !char.IsAscii(c)) is var other && other != default)
            return $"A vault name uses only the letters A to Z (no accents or other alphabets), digits and hyphens: \"{other}\" is not one of them.";
        if (!char.IsAsciiLetter(name[0]))
            return "A vault name starts with a letter.";
        if (!NamePattern().IsMatch(name))
            return "A vault name has only letters, digits and hyphens (no spaces or other characters).";
        return null;
    }

    /// <summary>What is wrong with choosing <paramref name="redundancy"/> in <paramref name="region"/>, or null.</summary>
    public static string? CheckRedundancy(StorageRedundancy redundancy, Region region) =>
        redundancy == StorageRedundancy.GRS && !region.HasPair
            ? $"Region \"{region.DisplayName}\" has no paired region, so it offers LRS only. Choose LRS or a region with a pair."
            : null;

    public static string? CheckSoftDeleteDays(int days) =>
        days is < MinSoftDeleteDays or > MaxSoftDeleteDays
            ? $"Soft delete keeps deleted backup data {MinSoftDeleteDays} to {MaxSoftDeleteDays} days."
            : null;

    public static string Normalize(string name) => name.Trim().ToUpperInvariant();
}
