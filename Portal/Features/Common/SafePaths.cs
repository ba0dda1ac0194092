namespace Portal.Features.Common;

/// <summary>Whether a path lies under configured roots, with symbolic links resolved so that a link cannot lead out.</summary>
public static class SafePaths
{
    /// <summary>True when <paramref name="fullPath"/> (absolute) is one of <paramref name="roots"/> or lies below one.</summary>
    public static bool IsUnderAny(string fullPath, IEnumerable<string> roots)
    {
        var real = RealPath(Path.TrimEndingDirectorySeparator(Path.GetFullPath(fullPath)));
        return roots.Any(root => IsUnder(real, RealPath(Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)))));
    }

    private static bool IsUnder(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal);

    /// <summary>The path with symbolic links resolved as far as they exist (the rest taken as written).</summary>
    public static string RealPath(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = "/";
        foreach (var part in parts)
        {
            var next = Path.Combine(current, part);
            try
            {
                var info = new DirectoryInfo(next);
                if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                    next = Path.TrimEndingDirectorySeparator(target.FullName);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            current = next;
        }

        return current;
    }
}
