using Portal.Engine.Progress;

namespace Portal.Engine.Operations;

/// <summary>What to do when a restored item already exists at the target (Azure Backup's options).</summary>
public enum RestoreConflict
{
    /// <summary>Replace the existing file or symlink.</summary>
    Overwrite,
    /// <summary>Keep the existing item and restore next to it as "name (restored)", "name (restored 2)"...</summary>
    CreateCopy,
    /// <summary>Keep the existing item and do not restore this one.</summary>
    Skip,
}

/// <summary>What to restore, and where.</summary>
/// <param name="Snapshot">A snapshot id, a unique id prefix, or "latest".</param>
/// <param name="TargetPath">The folder that receives the snapshot's root contents (created if missing).</param>
public sealed record RestoreRequest(string Snapshot, string TargetPath)
{
    /// <summary>
    /// Paths inside the snapshot ('/'-separated, relative to its root) to restore with everything below them.
    /// Empty (the default) restores the whole snapshot. Selected items keep their relative path under the target.
    /// </summary>
    public IReadOnlyList<string> Include { get; init; } = [];

    /// <summary>What to do with items that already exist (default <see cref="RestoreConflict.Overwrite"/>).</summary>
    public RestoreConflict Conflict { get; init; } = RestoreConflict.Overwrite;

    /// <summary>
    /// With <see cref="RestoreConflict.CreateCopy"/>: copies are named PREFIX + name (Azure Backup names them
    /// "2026-11-24 14-00 Copy of report.docx"); null keeps "name (restored).ext". One plain file-name part.
    /// </summary>
    public string? CopyPrefix { get; init; }

    /// <summary>
    /// Write zeros as holes (sparse files, like restic's and borg's <c>--sparse</c>): every 4 KiB block of the file
    /// (aligned) that is all zeros is left out instead of written, and the file's length is set at the end. Saves
    /// space and time for disk images; the content read back is the same. Off by default, since some files must be
    /// fully allocated (swap files, preallocated databases). On Linux; elsewhere every byte is written.
    /// </summary>
    public bool Sparse { get; init; }

    /// <summary>
    /// Complete an earlier restore of the same snapshot into the same target (one stopped by a crash or taken over by
    /// another host). A target file that already has the snapshot's size and content, compared by the XXH128 fingerprint
    /// recorded at backup (never by time alone), is kept as it is: not rewritten, its metadata set again, counted as done
    /// in progress and in <see cref="RestoreResult.FilesAlreadyComplete"/>. Any other existing item, such as a half-written
    /// or changed file, is handled by <see cref="Conflict"/> as usual: with Overwrite it is rewritten through a temporary
    /// file renamed into place. Files of snapshots made before fingerprints were recorded are always rewritten. Off by default.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>
    /// With <see cref="Resume"/>: when the earlier attempt started. A regular file that does not match the snapshot but
    /// was modified at or after this time is taken for one that attempt left half-written (it was writing it when it
    /// stopped), and is written again under its name, whatever <see cref="Conflict"/> says; files modified before it are
    /// the target's own and follow <see cref="Conflict"/>. Give the start with a margin for clock differences. Null: every
    /// existing file follows <see cref="Conflict"/>.
    /// </summary>
    public DateTimeOffset? ResumeSince { get; init; }

    /// <summary>
    /// Before returning, write what was restored to disk (Linux: syncfs of the target's file system; elsewhere nothing),
    /// inside the restore's time: a restore drill's time then includes the disk's write rate, which a whole restore too
    /// large for the page cache pays, instead of the speed of memory. Off by default.
    /// </summary>
    public bool Flush { get; init; }
}

/// <summary>The outcome of a restore.</summary>
public sealed record RestoreResult
{
    /// <summary>Completed, or Failed when some items could not be restored (all others were).</summary>
    public required OperationStatus Status { get; init; }
    /// <summary>Files written.</summary>
    public long FilesRestored { get; init; }
    /// <summary>Bytes of file content written.</summary>
    public long BytesRestored { get; init; }
    /// <summary>With <see cref="RestoreRequest.Resume"/>: files found complete at the target and kept (not in <see cref="FilesRestored"/>).</summary>
    public long FilesAlreadyComplete { get; init; }
    /// <summary>With <see cref="RestoreRequest.Resume"/>: bytes of the files found complete (not in <see cref="BytesRestored"/>).</summary>
    public long BytesAlreadyComplete { get; init; }
    /// <summary>Items left alone because they existed and the conflict option was Skip.</summary>
    public long Skipped { get; init; }
    /// <summary>
    /// With <see cref="RestoreConflict.CreateCopy"/>: the copies made next to items already there (files, folders in the
    /// way of a file, symlinks), as paths relative to the target ('/'-separated), in path order.
    /// </summary>
    public IReadOnlyList<string> Copies { get; init; } = [];
    /// <summary>One line per item that could not be restored, naming its path and the reason.</summary>
    public required IReadOnlyList<string> Errors { get; init; }
    /// <summary>
    /// Reads from storage: one per folder listing (tree) and one per chunk of each file written (a chunk a file holds
    /// twice is read twice; files kept by <see cref="RestoreRequest.Resume"/> and hard links read nothing). What a restore
    /// costs depends on these more than on the files' bytes: a small file costs a read of its own.
    /// </summary>
    public long StorageReads { get; init; }
    /// <summary>Bytes fetched from storage by <see cref="StorageReads"/>: the stored (compressed, encrypted) size of each blob read.</summary>
    public long StorageBytesRead { get; init; }
    /// <summary>
    /// The part of the restore's time that every restore pays whatever it restores (the repository lock, the snapshot,
    /// the index), before the first file: a drill of a sample scales only the rest to the whole point.
    /// </summary>
    public TimeSpan Setup { get; init; }
    /// <summary>What the operator should know that is not an item's failure (the repository could not be locked).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>What a whole restore of a snapshot would write and read from storage (see <see cref="BackupEngine.MeasureRestoreAsync"/>).</summary>
/// <param name="SnapshotId">The snapshot measured (full id).</param>
/// <param name="Files">Files a restore writes.</param>
/// <param name="Bytes">Bytes of their content.</param>
/// <param name="StorageReads">Reads from storage, counted as <see cref="RestoreResult.StorageReads"/> counts them.</param>
/// <param name="StorageBytes">Bytes those reads fetch, as <see cref="RestoreResult.StorageBytesRead"/>.</param>
public sealed record RestoreSize(string SnapshotId, long Files, long Bytes, long StorageReads, long StorageBytes)
{
    /// <summary>
    /// What one read from storage costs besides its bytes, in bytes of the same time (default 64 KiB): a request, a
    /// decryption, and for a small file its creation and metadata. Measured with bench/Portal.Bench drill-rto.
    /// </summary>
    public const long DefaultReadCost = 64 * 1024;

    /// <summary>
    /// The time a whole restore would take, extrapolated from a restore of part of the snapshot that took
    /// <paramref name="measured"/> and read <paramref name="reads"/> blobs of <paramref name="storedBytes"/> from storage
    /// (its <see cref="RestoreResult.StorageReads"/> and <see cref="RestoreResult.StorageBytesRead"/>): scaled by the
    /// storage work (each read's bytes plus <paramref name="readCost"/>), not by the files' bytes, since a small file
    /// costs a read of its own and compressed data reads less than it writes. The part's <paramref name="setup"/>
    /// (<see cref="RestoreResult.Setup"/>: what every restore pays once) is not scaled: a whole restore pays it once too.
    /// </summary>
    public TimeSpan Extrapolate(TimeSpan measured, long reads, long storedBytes, TimeSpan setup = default, long readCost = DefaultReadCost)
    {
        var part = (double)storedBytes + (double)reads * readCost;
        var whole = (double)StorageBytes + (double)StorageReads * readCost;
        if (part <= 0 || part >= whole)
            return measured;
        setup = setup < TimeSpan.Zero ? TimeSpan.Zero : setup > measured ? measured : setup;
        return setup + (measured - setup) * (whole / part);
    }
}
