namespace Portal.Engine.Progress;

/// <summary>
/// Progress of any engine operation, reported through <see cref="IProgress{T}"/>. Totals are 0 while unknown
/// (for example during the scan of a backup).
/// </summary>
/// <param name="Phase">What the operation is doing: "scan", "read", "finish", "restore", "check", "prune"...</param>
/// <param name="FilesDone">Files finished so far.</param>
/// <param name="FilesTotal">Files to handle in all, or 0 if unknown.</param>
/// <param name="BytesDone">Bytes finished so far.</param>
/// <param name="BytesTotal">Bytes to handle in all, or 0 if unknown.</param>
/// <param name="CurrentPath">The file just finished, relative to the operation's root, if any.</param>
public sealed record OperationProgress(string Phase, long FilesDone, long FilesTotal, long BytesDone, long BytesTotal, string? CurrentPath = null);

/// <summary>How an operation ended (Azure Backup's job states).</summary>
public enum JobStatus
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
