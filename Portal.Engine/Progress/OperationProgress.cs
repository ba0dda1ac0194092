namespace Portal.Engine.Progress;

/// <summary>What an engine operation is doing when it reports progress.</summary>
public enum OperationPhase
{
    /// <summary>Deriving or replacing a key (init, open, change passphrase): slow on purpose (Argon2id).</summary>
    Key,
    /// <summary>Backup: walking the source folder and comparing it with the parent snapshot. Totals are unknown.</summary>
    Scan,
    /// <summary>
    /// Backup: reading, chunking and storing changed files (a stream backup: reading the stream). The walk goes on
    /// meanwhile, folder by folder, so the totals grow as it finds more files to read; the final report has the real ones.
    /// </summary>
    Read,
    /// <summary>Backup: writing folder listings, the index and the snapshot.</summary>
    Finish,
    /// <summary>Restore: writing files.</summary>
    Restore,
    /// <summary>Check: verifying packs (counters count packs, not files).</summary>
    Check,
    /// <summary>Prune: marking used data, repacking and deleting (counters count snapshots).</summary>
    Prune,
    /// <summary>Forget: removing snapshots (counters count snapshots).</summary>
    Forget,
    /// <summary>Diff: comparing two snapshots (counters count differences).</summary>
    Diff,
    /// <summary>Listing the items of a snapshot (counters count items).</summary>
    List,
    /// <summary>Listing snapshots (counters count snapshots).</summary>
    Snapshots,
}

/// <summary>
/// Progress of any engine operation, reported through <see cref="IProgress{T}"/>. Totals are 0 while unknown
/// (for example during the scan of a backup). An operation that succeeds sends exactly one report with
/// <see cref="IsFinal"/> set, as its last one, with every counter equal to its total; an operation that fails or is
/// cancelled sends none. A reader that drops reports (a throttle) must pass the final one on.
/// </summary>
/// <param name="Phase">What the operation is doing.</param>
/// <param name="FilesDone">Files (or the phase's items) finished so far.</param>
/// <param name="FilesTotal">Files to handle in all, or 0 if unknown.</param>
/// <param name="BytesDone">Bytes finished so far.</param>
/// <param name="BytesTotal">Bytes to handle in all, or 0 if unknown.</param>
/// <param name="CurrentPath">The file just finished, relative to the operation's root, if any.</param>
public sealed record OperationProgress(OperationPhase Phase, long FilesDone, long FilesTotal, long BytesDone, long BytesTotal, string? CurrentPath = null)
{
    /// <summary>True on the operation's last report, sent once when it succeeded; its counters equal its totals.</summary>
    public bool IsFinal { get; init; }

    /// <summary>The last report of an operation that handled <paramref name="files"/> items and <paramref name="bytes"/> bytes.</summary>
    internal static OperationProgress Final(OperationPhase phase, long files, long bytes) =>
        new(phase, files, files, bytes, bytes) { IsFinal = true };
}

/// <summary>How an engine operation ended (Azure Backup's job states). Stored by name in snapshots: never rename a value.</summary>
public enum OperationStatus
{
    /// <summary>Everything was done.</summary>
    Completed,
    /// <summary>Done, but some items were skipped; the warnings name them.</summary>
    CompletedWithWarnings,
    /// <summary>Some items failed; the errors name them. Items without errors were still handled.</summary>
    Failed,
}

/// <summary>An <see cref="IProgress{T}"/> that ignores every report: the default of every operation.</summary>
internal sealed class NoProgress : IProgress<OperationProgress>
{
    public static readonly NoProgress Instance = new();
    public void Report(OperationProgress value) { }
}
