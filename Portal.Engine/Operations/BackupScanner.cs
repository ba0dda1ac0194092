using Portal.Engine.Crypto;
using Portal.Engine.Platform;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>One item found by the scan: its lstat, its children (folders) and, once known, its content.</summary>
internal sealed class ScanItem(string name, string fullPath, string relativePath, StatInfo stat)
{
    public string Name { get; } = name;
    public string FullPath { get; } = fullPath;
    public string RelativePath { get; } = relativePath;
    public StatInfo Stat { get; } = stat;
    public string? LinkTarget { get; set; }
    public List<ScanItem>? Children { get; set; }
    public List<string>? Content { get; set; }
    public long StoredSize { get; set; }

    /// <summary>The content's fingerprint (<see cref="Node.Fingerprint"/>), once read or kept from the parent.</summary>
    public string? Fingerprint { get; set; }

    /// <summary>
    /// The parent snapshot's node of this file when only the inode or ctime differ (same size and mtime): the file is
    /// read, and if its fingerprint equals this node's, this node's chunk list is kept.
    /// </summary>
    public Node? Candidate { get; set; }
    public bool Failed { get; set; }

    /// <summary>Set when this folder's entries all equal the parent snapshot's: that tree id is reused as is.</summary>
    public BlobId? UnchangedTree { get; set; }

    /// <summary>This folder's tree id once stored (or reused).</summary>
    public BlobId? SavedTree { get; set; }

    /// <summary>Extended attributes: read by the scan for folders and symlinks, with the content for files.</summary>
    public List<Xattr>? Xattrs { get; set; }

    public static List<Xattr>? ReadXattrs(string path) =>
        ExtendedAttributes.Read(path)?.Select(a => new Xattr { Name = a.Name, Value = a.Value }).ToList();

    public bool IsDir => Stat.FileType == StatInfo.Directory;
    public bool IsFile => Stat.FileType == StatInfo.Regular;
    public bool IsSymlink => Stat.FileType == StatInfo.Symlink;

    public Node ToNode(string type) => new()
    {
        Name = Name, Type = type, Mode = Stat.Permissions, Uid = Stat.Uid, Gid = Stat.Gid,
        Size = type == Node.File ? StoredSize : 0, MtimeNs = Stat.MtimeNs, CtimeNs = Stat.CtimeNs,
        Inode = Stat.Inode, Device = Stat.Device, Links = type == Node.File && Stat.Links > 1 ? Stat.Links : 0, Xattrs = Xattrs,
        Fingerprint = type == Node.File ? Fingerprint : null,
    };

    /// <summary>
    /// True when the node this item would be stored as (<see cref="ToNode"/>; content, subtree and link target are
    /// compared by the caller) equals <paramref name="old"/>. Every stored field must be compared here, or a
    /// reused tree would keep stale metadata.
    /// </summary>
    public bool SameAs(Node old, string type) =>
        old.Type == type && old.Mode == Stat.Permissions && old.Uid == Stat.Uid && old.Gid == Stat.Gid
        && old.Size == (type == Node.File ? StoredSize : 0) && old.MtimeNs == Stat.MtimeNs && old.CtimeNs == Stat.CtimeNs
        && old.Inode == Stat.Inode && old.Device == Stat.Device && old.Links == (type == Node.File && Stat.Links > 1 ? Stat.Links : 0)
        && old.Fingerprint == (type == Node.File ? Fingerprint : null) && SameXattrs(old.Xattrs, Xattrs);

    private static bool SameXattrs(List<Xattr>? a, List<Xattr>? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (a.Count != b.Count) return false;
        for (var i = 0; i < a.Count; i++)
            if (a[i].Name != b[i].Name || !a[i].Value.AsSpan().SequenceEqual(b[i].Value)) return false;
        return true;
    }
}

/// <summary>
/// Walks the source folder with lstat only (no link following): regular files, folders and symlinks.
/// Anything else, and anything that cannot be listed or stat'ed, becomes a warning with its path.
/// </summary>
internal static class BackupScanner
{
    public static ScanItem Scan(string root, PathFilter filter, List<string> warnings, CancellationToken ct)
    {
        var stat = Native.TryLStat(root) ?? throw new DirectoryNotFoundException($"Source folder '{root}' does not exist.");
        if (stat.FileType != StatInfo.Directory) throw new IOException($"Source '{root}' is not a folder.");
        var item = new ScanItem("", root, "", stat);
        ScanDir(item, filter, warnings, ct);
        if (filter.HasIncludes) Prune(item);
        return item;
    }

    private static void ScanDir(ScanItem dir, PathFilter filter, List<string> warnings, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        dir.Children = [];
        List<string> names;
        try
        {
            names = Directory.EnumerateFileSystemEntries(dir.FullPath).Select(Path.GetFileName).OfType<string>().ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warnings.Add($"{Display(dir)}: cannot list folder: {e.Message}");
            return;
        }
        names.Sort(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var full = Path.Combine(dir.FullPath, name);
            var rel = dir.RelativePath.Length == 0 ? name : dir.RelativePath + "/" + name;
            if (filter.IsExcluded(rel, name)) continue;
            StatInfo? st;
            try { st = Native.TryLStat(full); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                warnings.Add($"{rel}: cannot stat: {e.Message}");
                continue;
            }
            if (st is null) continue; // vanished between listing and stat: not part of this backup
            var child = new ScanItem(name, full, rel, st.Value);
            switch (st.Value.FileType)
            {
                case StatInfo.Directory:
                    ReadXattrs(child, warnings);
                    ScanDir(child, filter, warnings, ct);
                    break;
                case StatInfo.Symlink:
                    ReadXattrs(child, warnings);
                    try { child.LinkTarget = new FileInfo(full).LinkTarget ?? ""; }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        warnings.Add($"{rel}: cannot read symlink: {e.Message}");
                        continue;
                    }
                    break;
                case StatInfo.Regular:
                    if (!filter.IsIncludedFile(rel, name)) continue;
                    break;
                default:
                    warnings.Add($"{rel}: skipped: not a regular file, folder or symlink.");
                    continue;
            }
            dir.Children.Add(child);
        }
    }

    /// <summary>Reads a folder's or symlink's extended attributes; when they cannot be read, it is kept without them and a warning says so.</summary>
    private static void ReadXattrs(ScanItem item, List<string> warnings)
    {
        try { item.Xattrs = ScanItem.ReadXattrs(item.FullPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warnings.Add($"{item.RelativePath}: stored without its extended attributes: {e.Message}");
        }
    }

    /// <summary>
    /// With include patterns, only folders on the way to a kept file (or symlink) stay. Returns whether
    /// <paramref name="dir"/> keeps anything.
    /// </summary>
    private static bool Prune(ScanItem dir)
    {
        if (dir.Children is not { } children) return false;
        children.RemoveAll(c => c.IsDir && !Prune(c));
        return children.Count > 0;
    }

    private static string Display(ScanItem item) => item.RelativePath.Length == 0 ? "." : item.RelativePath;

    public static IEnumerable<ScanItem> Files(ScanItem dir)
    {
        foreach (var c in dir.Children ?? [])
        {
            if (c.IsFile) yield return c;
            else if (c.IsDir) foreach (var f in Files(c)) yield return f;
        }
    }

    public static long CountDirs(ScanItem dir) => 1 + (dir.Children ?? []).Where(c => c.IsDir).Sum(CountDirs);
}
