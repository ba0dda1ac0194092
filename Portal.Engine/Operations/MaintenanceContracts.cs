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
    /// <summary>With a <see cref="ReadDataWindow"/>: what this check read, and where the next one starts.</summary>
    public ReadDataPass? DataRead { get; init; }
}

/// <summary>What a check verifies beyond the structure.</summary>
public sealed record CheckOptions
{
    /// <summary>Read, decrypt and verify every pack (and every file against its recorded size and fingerprint).</summary>
    public bool ReadData { get; init; }

    /// <summary>
    /// Read only the next share of the packs, in name order after <see cref="ReadDataWindow.After"/>: checks run one after
    /// another (say nightly) read every pack once per pass, within a byte budget each. Ignored when <see cref="ReadData"/> is set.
    /// </summary>
    public ReadDataWindow? Window { get; init; }

    /// <summary>
    /// Read only subset <see cref="ReadDataSubset.N"/> of <see cref="ReadDataSubset.M"/> (restic's <c>--read-data-subset n/m</c>):
    /// the packs whose id, as a number, leaves N-1 divided by M; checks of 1/M to M/M read every pack once.
    /// </summary>
    public ReadDataSubset? Subset { get; init; }
}

/// <summary>Subset <paramref name="N"/> of <paramref name="M"/> of the packs (1 ≤ N ≤ M).</summary>
public sealed record ReadDataSubset(int N, int M)
{
    internal bool Contains(Crypto.BlobId pack) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(pack.ToBytes()) % (uint)M == (uint)(N - 1);
}

/// <summary>
/// The packs one check reads: those after <paramref name="After"/> (a pack's object name; null to start a pass), in name
/// order, until <paramref name="Share"/> of all the packs' bytes or <paramref name="MaxBytes"/> is read, whichever is less
/// (at least one pack), or the last pack is reached (the pass is complete). Files are verified against their recorded size
/// and fingerprint when their first chunk lies in a pack read.
/// </summary>
public sealed record ReadDataWindow(string? After, double Share, long MaxBytes);

/// <summary>What a windowed check read.</summary>
/// <param name="PacksRead">Packs read and verified by this check.</param>
/// <param name="BytesRead">Their size.</param>
/// <param name="PacksTotal">Packs in the repository.</param>
/// <param name="BytesTotal">Their size.</param>
/// <param name="Next">Where the next check starts (the last pack read), or null when this one reached the last pack.</param>
/// <param name="PassCompleted">True when this check read up to the last pack: with the checks before it since the pass started, every pack was read.</param>
public sealed record ReadDataPass(int PacksRead, long BytesRead, int PacksTotal, long BytesTotal, string? Next, bool PassCompleted);

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

/// <summary>One repository lock: which operation on which machine holds it, and whether it is stale.</summary>
/// <param name="ObjectName">The lock object in the store (<c>locks/...</c>).</param>
/// <param name="Operation">backup, prune, restore, check or download ("unreadable" when the object cannot be read).</param>
/// <param name="Host">The machine that took it.</param>
/// <param name="Pid">Its process id on that machine.</param>
/// <param name="Exclusive">True for a prune's lock, which keeps every backup out.</param>
/// <param name="Since">When it was taken or last refreshed.</param>
/// <param name="StaleBecause">Why it is stale (its process has ended, or it was not refreshed for 30 minutes), or null while it may belong to a running operation.</param>
public sealed record LockInfo(string ObjectName, string Operation, string Host, int Pid, bool Exclusive, DateTimeOffset Since, string? StaleBecause)
{
    /// <summary>True when no running operation holds it: removing it is safe.</summary>
    public bool IsStale => StaleBecause is not null;
}

/// <summary>The outcome of an unlock.</summary>
public sealed record UnlockResult
{
    /// <summary>Locks removed: the stale ones, and with force the live ones too.</summary>
    public required IReadOnlyList<LockInfo> Removed { get; init; }
    /// <summary>Live locks left in place (unlock without force never removes them).</summary>
    public required IReadOnlyList<LockInfo> KeptLive { get; init; }
}

/// <summary>The outcome of <c>repair index</c>.</summary>
public sealed record RepairIndexResult
{
    /// <summary>Packs whose headers were read and indexed.</summary>
    public int PacksIndexed { get; init; }
    /// <summary>Chunks and folder listings the new index lists.</summary>
    public long BlobsIndexed { get; init; }
    /// <summary>Old index objects removed (after the new one was written).</summary>
    public int OldIndexesRemoved { get; init; }
    /// <summary>Packs whose header could not be read, each in plain words: left in place, not indexed.</summary>
    public required IReadOnlyList<string> Unreadable { get; init; }
}

/// <summary>One snapshot rewritten by <c>repair snapshots</c>.</summary>
/// <param name="OldId">The snapshot that referred to lost data (removed).</param>
/// <param name="NewId">Its replacement, tagged "repaired".</param>
/// <param name="Removed">The files (and folders, ending in "/ ...") left out because their data is gone.</param>
public sealed record RepairedSnapshot(string OldId, string NewId, IReadOnlyList<string> Removed);

/// <summary>The outcome of <c>repair snapshots</c>.</summary>
public sealed record RepairSnapshotsResult
{
    /// <summary>Snapshots looked at.</summary>
    public int SnapshotsChecked { get; init; }
    /// <summary>Snapshots rewritten without their lost files.</summary>
    public required IReadOnlyList<RepairedSnapshot> Repaired { get; init; }
    /// <summary>Snapshots that could not be repaired (their top folder listing is gone), in plain words; left as they are.</summary>
    public required IReadOnlyList<string> Unrepairable { get; init; }
}
