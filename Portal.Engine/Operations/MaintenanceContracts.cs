namespace Portal.Engine.Operations;

/// <summary>One damaged or missing object, with what it affects.</summary>
/// <param name="ObjectName">The object in the store (e.g. <c>data/3f/3f9a...</c>), or "index" for a chunk no index lists.</param>
/// <param name="Problem">What is wrong with it.</param>
/// <param name="Snapshots">Ids of the snapshots with files or folders that need it.</param>
/// <param name="Files">Those files and folders, as "snapshot-short-id:path" (at most 1000).</param>
public sealed record CheckProblem(string ObjectName, string Problem, IReadOnlyList<string> Snapshots, IReadOnlyList<string> Files);

/// <summary>The outcome of a check.</summary>
public sealed record CheckResult
{
    /// <summary>Damaged or missing objects; empty when the repository is healthy.</summary>
    public required IReadOnlyList<CheckProblem> Problems { get; init; }
    /// <summary>Harmless findings, such as packs no index lists yet (a stopped backup; prune removes them).</summary>
    public required IReadOnlyList<string> Notes { get; init; }
    /// <summary>True when there are no problems.</summary>
    public bool IsHealthy => Problems.Count == 0;
    /// <summary>Snapshots checked.</summary>
    public int Snapshots { get; init; }
    /// <summary>Packs in the store.</summary>
    public int Packs { get; init; }
    /// <summary>Blobs decrypted and verified (read-data only).</summary>
    public long BlobsVerified { get; init; }
}

/// <summary>The outcome of a prune.</summary>
public sealed record PruneResult
{
    /// <summary>Packs deleted because no snapshot needs any of their blobs (or they were repacked).</summary>
    public int PacksDeleted { get; init; }
    /// <summary>Partly used packs whose used blobs were copied into new packs.</summary>
    public int PacksRepacked { get; init; }
    /// <summary>Packs kept because they are newer than the grace period and not yet indexed (a running backup's).</summary>
    public int PacksKeptInGrace { get; init; }
    /// <summary>Bytes removed from the store (net of new packs).</summary>
    public long BytesFreed { get; init; }
}
