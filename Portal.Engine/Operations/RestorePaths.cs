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

    /// <summary>The start of every temporary name a restore uses while it replaces an existing file.</summary>
    public const string TempPrefix = ".portal-restore-";

    private const string PartialPrefix = TempPrefix + "partial-";

    private static readonly string OwnSpace = ProcessIdentity.Space is { } space
        ? Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(space)))[..8] : "nospace0";

    /// <summary>
    /// The temporary name under which <paramref name="name"/> is written before it replaces the existing file:
    /// ".portal-restore-partial-" + this machine's process space, pid and start time (so the next restore into the folder
    /// can tell the writer has ended), a random part, and the file's own name (cut to stay within 255 bytes).
    /// </summary>
    public static string TempName(string name)
    {
        var owner = $"{PartialPrefix}{OwnSpace}-{Environment.ProcessId}-{ProcessIdentity.CurrentStart ?? "0"}-{Guid.NewGuid().ToString("N")[..8]}-";
        var room = 255 - System.Text.Encoding.UTF8.GetByteCount(owner);
        var shown = name;
        while (System.Text.Encoding.UTF8.GetByteCount(shown) > room) shown = shown[..^1];
        if (shown.Length > 0 && char.IsHighSurrogate(shown[^1])) shown = shown[..^1];
        return owner + shown;
    }

    /// <summary>
    /// Whether <paramref name="fileName"/> is a temporary file left by a restore that has ended (killed, or a power cut):
    /// one of <see cref="TempName"/> whose process ran on this machine and is gone, or, with <paramref name="legacyToo"/>
    /// (a resumed restore), one of the older random names that say nothing of their owner.
    /// </summary>
    public static bool IsAbandonedTemp(string fileName, bool legacyToo)
    {
        if (fileName.StartsWith(PartialPrefix, StringComparison.Ordinal))
        {
            var parts = fileName[PartialPrefix.Length..].Split('-', 5);
            return parts.Length == 5 && parts[0] == OwnSpace && int.TryParse(parts[1], out var pid)
                && ProcessIdentity.Check(ProcessIdentity.Space, pid, parts[2]) == ProcessState.Ended;
        }
        return legacyToo && fileName.Length == TempPrefix.Length + 32 && fileName.StartsWith(TempPrefix, StringComparison.Ordinal);
    }
}

/// <summary>
/// Which paths a restore's include list selects, by hash lookups: a drill restores samples of thousands of files, and
/// comparing every entry of the snapshot with every include cost seconds of CPU (entries × includes).
/// </summary>
internal sealed class RestoreSelection
{
    private readonly HashSet<string> _selected = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ancestors = new(StringComparer.Ordinal);
    private readonly bool _all;

    /// <param name="includes">Split include paths (<see cref="RestorePaths.SplitInclude"/>); none, or an empty one, selects everything.</param>
    public RestoreSelection(IReadOnlyCollection<string[]> includes)
    {
        _all = includes.Count == 0;
        foreach (var inc in includes)
        {
            if (inc.Length == 0) _all = true;
            _selected.Add(string.Join('/', inc));
            for (var i = 1; i < inc.Length; i++) _ancestors.Add(string.Join('/', inc.Take(i)));
        }
    }

    /// <summary>Whether <paramref name="rel"/> ('/'-separated) is an include or below one.</summary>
    public bool Selects(string rel)
    {
        if (_all || _selected.Contains(rel)) return true;
        for (var i = rel.IndexOf('/'); i >= 0; i = rel.IndexOf('/', i + 1))
            if (_selected.Contains(rel[..i])) return true;
        return false;
    }

    /// <summary>Whether <paramref name="rel"/> is a folder on the way to an include (the restore walks it but writes only what is selected).</summary>
    public bool Leads(string rel) => _ancestors.Contains(rel);
}
