using Portal.Engine.Agents;
using Portal.Features.Protection;

namespace Portal.Features.Machines;

/// <summary>
/// A machine's answer to <see cref="AgentClientMethods.ListFolders"/>, checked as hostile input before anything shows it:
/// the path must be the one asked for and its parent the folder above it (or none), each name one plain folder name
/// (no separator, no control character, not "." or "..", no duplicate), the roots absolute and normalised, the counts
/// within the bounds asked. Anything else refuses the whole answer, in words, and shows nothing of it.
/// </summary>
public static class FolderAnswers
{
    /// <summary>The longest folder name the portal accepts (Linux allows 255 bytes).</summary>
    public const int NameMaxLength = 255;

    /// <summary>The most a machine may say it left out (a folder with more subfolders than this is a lie or a problem).</summary>
    public const int MoreMax = 100_000_000;

    /// <summary>The listing the picker shows, or throws <see cref="MachineFolderException"/> with the words to show.</summary>
    /// <param name="asked">The normalised path asked for (null: the machine's roots).</param>
    public static FolderListing Check(string machine, string? asked, int max, FolderListResponse? answer)
    {
        if (answer is null)
            throw Bad(machine, "gave no answer");
        if (answer.Error is { } error)
            throw new MachineFolderException($"{machine}: {Clip(error, 500)}");
        var folders = answer.Folders ?? throw Bad(machine, "gave no folder list");
        if (folders.Count > max)
            throw Bad(machine, $"named {folders.Count} folders where at most {max} were asked for");
        if (answer.More is < 0 or > MoreMax)
            throw Bad(machine, "gave an impossible count of further folders");
        if (asked is null)
        {
            if (answer.Path is not null || answer.Parent is not null)
                throw Bad(machine, "listed another folder than the one asked for");
            foreach (var root in folders)
                if (root is null || root.Length > ProtectionRules.PathMaxLength || !root.StartsWith('/') || HasControl(root) ||
                    Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) != root)
                    throw Bad(machine, "named a top folder that is not a plain absolute path");
            return new FolderListing(null, null, [.. folders.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], answer.More);
        }

        if (answer.Path != asked)
            throw Bad(machine, "listed another folder than the one asked for");
        if (answer.Parent is not null && answer.Parent != Path.GetDirectoryName(asked))
            throw Bad(machine, "named a folder above it that is not its parent");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var paths = new List<string>(folders.Count);
        var more = answer.More;
        foreach (var name in folders)
        {
            if (string.IsNullOrEmpty(name) || name.Length > NameMaxLength || name is "." or ".." || name.Contains('/') || HasControl(name) || !seen.Add(name))
                throw Bad(machine, "named a folder that is not one plain folder name");
            var path = asked == "/" ? "/" + name : asked + "/" + name;
            if (path.Length > ProtectionRules.PathMaxLength)
                more++; // too deep to protect from the portal: counted, not offered
            else
                paths.Add(path);
        }

        paths.Sort(StringComparer.Ordinal);
        return new FolderListing(asked, answer.Parent, paths, more);
    }

    private static MachineFolderException Bad(string machine, string what) =>
        new($"{machine} {what}, so its folders are not shown. Type the folder's path instead.");

    private static bool HasControl(string text) => text.Any(char.IsControl);

    /// <summary>Text from a machine, made safe to show: control characters out, at most <paramref name="max"/> characters.</summary>
    public static string Clip(string text, int max)
    {
        var clean = new string([.. text.Select(c => char.IsControl(c) ? ' ' : c)]).Trim();
        return clean.Length > max ? clean[..(max - 1)] + "…" : clean;
    }
}

/// <summary>A machine's folders cannot be listed: the words say why and what to do (type the path).</summary>
public sealed class MachineFolderException(string message) : Exception(message);
