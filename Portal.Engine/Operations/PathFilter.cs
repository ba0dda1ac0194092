using DotNet.Globbing;

namespace Portal.Engine.Operations;

/// <summary>
/// Which paths of a backup source are kept, from include and exclude glob patterns (<c>*</c>, <c>?</c>,
/// <c>**</c>, <c>[abc]</c>). A pattern without a slash matches a name at any depth (<c>*.tmp</c>, <c>node_modules</c>);
/// a pattern with a slash matches the path relative to the source (<c>docs/**/*.pdf</c>). An excluded folder is
/// not entered. With include patterns, only files that match one of them are kept (folders are always walked);
/// excludes win over includes.
/// </summary>
public sealed class PathFilter
{
    private readonly Rule[] _includes;
    private readonly Rule[] _excludes;

    private PathFilter(Rule[] includes, Rule[] excludes) => (_includes, _excludes) = (includes, excludes);

    /// <summary>Keeps everything.</summary>
    public static PathFilter All { get; } = new([], []);

    /// <summary>Parses the patterns; throws <see cref="ArgumentException"/> naming the first pattern that is not valid.</summary>
    public static PathFilter Create(IEnumerable<string>? includes, IEnumerable<string>? excludes) =>
        new(Parse(includes, "include"), Parse(excludes, "exclude"));

    /// <summary>Null when <paramref name="pattern"/> is a valid pattern, else what is wrong with it.</summary>
    public static string? Check(string pattern)
    {
        var p = Normalize(pattern);
        if (p.Length == 0) return "A pattern cannot be empty.";
        if (p.Contains('\0')) return "A pattern cannot contain a NUL character.";
        if (p.Split('/').Any(s => s == "..")) return $"Pattern \"{pattern}\" cannot contain \"..\": patterns are relative to the source folder.";
        try
        {
            Glob.Parse(p);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            return $"Pattern \"{pattern}\" is not a valid glob: {e.Message}";
        }
    }

    /// <summary>Whether include patterns were given (then only matching files are kept).</summary>
    public bool HasIncludes => _includes.Length > 0;

    /// <summary>Whether the entry at <paramref name="relativePath"/> (slash-separated, no leading slash) is excluded.</summary>
    public bool IsExcluded(string relativePath, string name) => _excludes.Any(r => r.Matches(relativePath, name));

    /// <summary>Whether a file at <paramref name="relativePath"/> is kept by the include patterns (true without any).</summary>
    public bool IsIncludedFile(string relativePath, string name) => _includes.Length == 0 || _includes.Any(r => r.Matches(relativePath, name));

    private static Rule[] Parse(IEnumerable<string>? patterns, string kind) =>
        (patterns ?? []).Where(p => !string.IsNullOrWhiteSpace(p)).Select(p =>
        {
            if (Check(p) is { } error) throw new ArgumentException($"Invalid {kind} pattern: {error}");
            var normalized = Normalize(p);
            return new Rule(Glob.Parse(normalized), normalized.Contains('/'));
        }).ToArray();

    private static string Normalize(string pattern) => pattern.Trim().Replace('\\', '/').TrimStart('/').TrimEnd('/');

    private sealed record Rule(Glob Glob, bool ByPath)
    {
        public bool Matches(string relativePath, string name) => ByPath ? Glob.IsMatch(relativePath) : Glob.IsMatch(name);
    }
}
