using Portal.Engine.Crypto;
using Portal.Engine.Platform;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>One entry found by the backup's walk (<see cref="BackupWalker"/>): its lstat and, once known, its content or subtree.</summary>
internal sealed class ScanItem(string name, string fullPath, string relativePath, StatInfo stat)
{
    public string Name { get; } = name;
    public string FullPath { get; } = fullPath;
    public string RelativePath { get; } = relativePath;
    public StatInfo Stat { get; } = stat;
    public string? LinkTarget { get; set; }
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

    /// <summary>A folder's tree id once stored (or kept from the parent snapshot).</summary>
    public BlobId? Subtree { get; set; }

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
