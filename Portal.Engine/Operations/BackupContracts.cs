using Portal.Engine.Progress;

namespace Portal.Engine.Operations;

/// <summary>What to back up.</summary>
/// <param name="SourcePath">The folder to back up; its contents become the snapshot's root.</param>
public sealed record BackupRequest(string SourcePath)
{
    /// <summary>Labels stored with the snapshot.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>
    /// The snapshot to compare with to skip unchanged files (id, prefix or "latest"). Default: the latest
    /// snapshot of the same source path on this host.
    /// </summary>
    public string? Parent { get; init; }

    /// <summary>Host name stored in the snapshot (default: this machine's name).</summary>
    public string? Host { get; init; }

    /// <summary>Which files and folders of the source are backed up (default: all).</summary>
    public PathFilter Filter { get; init; } = PathFilter.All;

    /// <summary>
    /// The snapshot may not be forgotten before this time, whoever asks (an immutable vault's recovery point: its retention
    /// when it was taken). Null: no such floor.
    /// </summary>
    public DateTimeOffset? KeepUntil { get; init; }
}

/// <summary>The outcome of a backup.</summary>
public sealed record BackupResult
{
    /// <summary>The new snapshot's id.</summary>
    public required string SnapshotId { get; init; }
    /// <summary>Completed, or CompletedWithWarnings when some items could not be read.</summary>
    public required OperationStatus Status { get; init; }
    /// <summary>One line per skipped item, naming its path and the reason.</summary>
    public required IReadOnlyList<string> Warnings { get; init; }
    /// <summary>Files in the snapshot.</summary>
    public long Files { get; init; }
    /// <summary>Folders in the snapshot.</summary>
    public long Directories { get; init; }
    /// <summary>Total size of the files in the snapshot.</summary>
    public long Bytes { get; init; }
    /// <summary>Files that were read (new or changed).</summary>
    public long FilesRead { get; init; }
    /// <summary>Files taken from the parent snapshot without reading them.</summary>
    public long FilesUnchanged { get; init; }
    /// <summary>New blobs stored.</summary>
    public long BlobsAdded { get; init; }
    /// <summary>Bytes added to the store (packs, after compression and encryption).</summary>
    public long BytesAdded { get; init; }
}

/// <summary>What to back up from a stream (see <see cref="BackupEngine.BackupStreamAsync"/>).</summary>
/// <param name="SourceName">What the stream is, stored as the snapshot's path (e.g. <c>postgresql://db1:5432/sales</c>); the
/// parent snapshot is the latest one with the same name and host.</param>
/// <param name="FileName">The name of the one file the snapshot holds (e.g. <c>sales.dump</c>).</param>
public sealed record StreamBackupRequest(string SourceName, string FileName)
{
    /// <summary>Labels stored with the snapshot.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Host name stored in the snapshot (default: this machine's name).</summary>
    public string? Host { get; init; }

    /// <summary>An estimate of the stream's length for progress (0: unknown); the real length is whatever the stream gives.</summary>
    public long ExpectedBytes { get; init; }

    /// <summary>
    /// The snapshot may not be forgotten before this time, whoever asks (an immutable vault's recovery point: its retention
    /// when it was taken). Null: no such floor.
    /// </summary>
    public DateTimeOffset? KeepUntil { get; init; }
}
