using Portal.Engine.Progress;

namespace Portal.Engine.Operations;

/// <summary>A snapshot (recovery point) as listed.</summary>
/// <param name="Id">Full id (64 hex digits); any unique prefix selects it.</param>
/// <param name="Time">When the backup finished.</param>
/// <param name="Host">The machine that made it.</param>
/// <param name="Paths">The source folder(s).</param>
/// <param name="Tags">Labels given at backup time.</param>
/// <param name="Status">Completed or CompletedWithWarnings.</param>
/// <param name="Files">Files in the snapshot.</param>
/// <param name="Bytes">Total file size.</param>
/// <param name="BytesAdded">Bytes this backup added to the store.</param>
/// <param name="Parent">The snapshot it was compared with, if any.</param>
/// <param name="KeepUntil">Forget refuses the snapshot before this time (an immutable vault's recovery point); null when there is no such floor.</param>
public sealed record SnapshotInfo(string Id, DateTimeOffset Time, string Host, IReadOnlyList<string> Paths, IReadOnlyList<string> Tags,
    OperationStatus Status, long Files, long Bytes, long BytesAdded, string? Parent, DateTimeOffset? KeepUntil = null)
{
    /// <summary>Held with no end date (an immutable vault's point kept until deleted): forget refuses it until the hold is released.</summary>
    public bool HeldUntilReleased { get; init; }

    /// <summary>The first 8 hex digits, as shown to people.</summary>
    public string ShortId => Id[..8];
}

/// <summary>The kind of an item in a snapshot.</summary>
public enum EntryType
{
    /// <summary>A regular file.</summary>
    File,
    /// <summary>A folder.</summary>
    Directory,
    /// <summary>A symbolic link, stored as the link itself.</summary>
    Symlink,
}

/// <summary>One item of a snapshot's tree.</summary>
/// <param name="Path">'/'-separated path relative to the snapshot root.</param>
/// <param name="Type">File, folder or symlink.</param>
/// <param name="Size">File size in bytes (0 for others).</param>
/// <param name="Mode">Permission bits (e.g. 0644 octal).</param>
/// <param name="ModifiedUtc">Modification time.</param>
/// <param name="LinkTarget">A symlink's target text.</param>
public sealed record TreeEntry(string Path, EntryType Type, long Size, int Mode, DateTimeOffset ModifiedUtc, string? LinkTarget);

/// <summary>How an item differs between two snapshots.</summary>
public enum DiffKind
{
    /// <summary>Only in the second snapshot.</summary>
    Added,
    /// <summary>Only in the first snapshot.</summary>
    Removed,
    /// <summary>In both, with different content or metadata.</summary>
    Modified,
}

/// <summary>One difference between two snapshots.</summary>
/// <param name="Path">'/'-separated path relative to the snapshot roots.</param>
/// <param name="Kind">Added, removed or modified.</param>
/// <param name="Type">The item's kind (in the second snapshot when present there).</param>
public sealed record DiffEntry(string Path, DiffKind Kind, EntryType Type);

/// <summary>The newest vault manifest in a repository: the owner's document and when it was written.</summary>
/// <param name="Document">What the owner wrote (the portal writes JSON).</param>
/// <param name="Written">When it was written (the engine's clock).</param>
public sealed record VaultManifest(string Document, DateTimeOffset Written);
