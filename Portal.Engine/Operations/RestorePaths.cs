using Portal.Engine.Platform;

namespace Portal.Engine.Operations;

/// <summary>
/// The rules that keep a restore inside its target whatever the repository says: every name is one plain
/// path segment, and no existing item on the way is a symlink.
/// </summary>
internal static class RestorePaths
{
    /// <summary>Null if the name is safe, else why it is refused.</summary>
    public static string? Unsafe(string name)
    {
        if (name.Length == 0) return "an empty name";
        if (name is "." or "..") return $"the name '{name}'";
        if (name.Contains('/') || name.Contains('\\')) return "a name containing a path separator";
        if (name.Contains('\0')) return "a name containing NUL";
        if (Path.IsPathRooted(name)) return "an absolute name";
        return null;
    }

    /// <summary>Splits and checks an include path given by the user.</summary>
    public static string[] SplitInclude(string include)
    {
        var parts = include.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        foreach (var p in parts)
            if (Unsafe(p) is { } why) throw new ArgumentException($"The restore path '{include}' contains {why}.", nameof(include));
        return parts;
    }

    /// <summary>Ensures <paramref name="path"/> is a real folder (created if missing). Never follows or replaces a symlink.</summary>
    public static bool EnsureDirectory(string path, bool replaceFile, out string? error)
    {
        error = null;
        var st = Native.TryLStat(path);
        if (st is null)
        {
            Directory.CreateDirectory(path);
            st = Native.TryLStat(path);
        }
        if (st is { FileType: StatInfo.Directory }) return true;
        if (st is { FileType: StatInfo.Symlink })
        {
            error = "refused: an existing symlink is in the way (a restore never writes through symlinks).";
            return false;
        }
        if (replaceFile && st is not null)
        {
            File.Delete(path);
            Directory.CreateDirectory(path);
            if (Native.TryLStat(path) is { FileType: StatInfo.Directory }) return true;
        }
        error = "an existing file is in the way of a folder.";
        return false;
    }

    /// <summary>
    /// "name (restored).ext", "name (restored 2).ext"... the first that does not exist; with a prefix (Azure Backup's
    /// "2026-11-24 14-00 Copy of "), "PREFIXname.ext", "PREFIXname (2).ext"...
    /// </summary>
    public static string CopyName(string dir, string name, string? prefix = null) => CopyNames(dir, name, prefix).First(c => Native.TryLStat(Path.Combine(dir, c)) is null);

    /// <summary>The copy names <see cref="CopyName"/> tries, in its order: a resumed restore looks among the existing ones for its own copy.</summary>
    public static IEnumerable<string> CopyNames(string dir, string name, string? prefix = null)
    {
        if (prefix is not null)
        {
            var ext2 = Path.GetExtension(name);
            var stem2 = ext2.Length > 0 && ext2.Length < name.Length ? name[..^ext2.Length] : name;
            if (stem2.Length == name.Length) ext2 = "";
            for (var i = 1; ; i++)
            {
                var candidate = i == 1 ? prefix + name : $"{prefix}{stem2} ({i}){ext2}";
                if (Unsafe(candidate) is not null) throw new ArgumentException($"Copy prefix \"{prefix}\" makes an unsafe name.");
                yield return candidate;
            }
        }

        var ext = Path.GetExtension(name);
        var stem = ext.Length > 0 && ext.Length < name.Length ? name[..^ext.Length] : name;
        if (stem.Length == name.Length) ext = "";
        for (var i = 1; ; i++)
        {
            yield return $"{stem} (restored{(i == 1 ? "" : " " + i)}){ext}";
        }
    }
}
