namespace Portal.Agent.Folders;

/// <summary>
/// The folders this machine lets the portal back up (<c>run --source-root DIR</c>, repeatable, or
/// <c>PORTAL_AGENT_SOURCE_ROOTS</c>, colon-separated); "/" when none is given. A path is inside when it is a root or lies
/// below one with its symbolic links resolved, so that a link cannot lead out. Backups and the folder picker obey it.
/// </summary>
internal sealed class SourceRoots
{
    /// <summary>The environment variable that gives the roots when no <c>--source-root</c> does.</summary>
    public const string Variable = "PORTAL_AGENT_SOURCE_ROOTS";

    private readonly string[] real;

    /// <summary>The roots, absolute and normalised (refuses a relative one).</summary>
    public SourceRoots(IEnumerable<string> roots)
    {
        var given = roots.Where(r => !string.IsNullOrWhiteSpace(r)).ToList();
        foreach (var root in given.Where(r => !Path.IsPathFullyQualified(r)))
            throw new ArgumentException($"A source root must be an absolute folder, not '{root}'.");
        All = given.Count == 0 ? ["/"] : [.. given.Select(Normalise).Distinct(StringComparer.Ordinal)];
        Restricted = given.Count > 0;
        real = [.. All.Select(RealPath)];
    }

    /// <summary>The roots as given (normalised).</summary>
    public IReadOnlyList<string> All { get; }

    /// <summary>Roots were given (otherwise the whole machine may be backed up).</summary>
    public bool Restricted { get; }

    /// <summary>Whether <paramref name="fullPath"/> is a root or below one, links resolved.</summary>
    public bool Contains(string fullPath)
    {
        var path = RealPath(Normalise(fullPath));
        return real.Any(root => path == root || path.StartsWith(root == "/" ? "/" : root + "/", StringComparison.Ordinal));
    }

    /// <summary>Null when <paramref name="path"/> is an absolute folder inside the roots (then <paramref name="folder"/> is it, normalised); else why not.</summary>
    public string? Check(string path, out string folder)
    {
        folder = "";
        if (path.Length > 4096 || path.Any(char.IsControl))
            return "That is not a folder path.";
        if (!Path.IsPathFullyQualified(path.Trim()))
            return $"\"{path}\" is not an absolute path: give the full path of the folder, such as /srv/share.";
        folder = Normalise(path.Trim());
        return Contains(folder) ? null : $"{folder} is outside the folders this machine may back up ({string.Join(", ", All)}).";
    }

    private static string Normalise(string path)
    {
        var full = Path.GetFullPath(path);
        return full == "/" ? full : Path.TrimEndingDirectorySeparator(full);
    }

    /// <summary>The path with symbolic links resolved as far as they exist (the rest taken as written).</summary>
    internal static string RealPath(string path)
    {
        var current = "/";
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            try
            {
                var info = new DirectoryInfo(next);
                if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                    next = Path.TrimEndingDirectorySeparator(target.FullName);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }

            current = next;
        }

        return current;
    }
}
