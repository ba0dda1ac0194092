using Portal.Engine.Operations;
using Portal.Features.Protection;
using Portal.Features.Regions;

namespace Portal.Features.Restore;

public enum RestoreDestination
{
    /// <summary>Back into the item's own folder.</summary>
    OriginalLocation,

    /// <summary>Into another folder under the configured restore roots.</summary>
    AlternateLocation,
}

/// <summary>What to do when a file is already there (Azure Backup's options).</summary>
public enum RestoreConflictOption
{
    /// <summary>Keep the file and restore next to it as "2026-11-24 14-00 Copy of NAME".</summary>
    CreateCopy,

    /// <summary>Replace the file (only Backup.Contributor and Backup.Operator at the original location).</summary>
    Overwrite,

    /// <summary>Keep the file and do not restore that one.</summary>
    Skip,
}

/// <summary>A restore as the wizard asks for it.</summary>
/// <param name="Paths">Files and folders of the point ('/'-separated, relative to the item's folder); empty restores everything.</param>
/// <param name="Region">The region to read from: null or the vault's region, or its pair for a cross-region restore.</param>
/// <param name="Sparse">Leave blocks of zeros out as holes (disk images take only the space of their data).</param>
/// <param name="TargetMachineId">For an item on a machine: the registered machine of the vault to restore onto (null: the item's own).</param>
public sealed record FileRestoreRequest(
    Guid ItemId,
    Guid RecoveryPointId,
    IReadOnlyList<string> Paths,
    RestoreDestination Destination,
    string? AlternatePath,
    RestoreConflictOption Conflict,
    string? Region = null,
    bool Sparse = false,
    Guid? TargetMachineId = null);

/// <summary>What a restore will do, in the words of the review step (with <paramref name="TargetMachine"/>, on that machine).</summary>
public sealed record RestorePlan(string Summary, string TargetPath, long Files, long Bytes, TimeSpan EstimatedDuration, DateTime PointTime, string Region,
    MachineInfo? TargetMachine = null);

/// <summary>A recovery point as the wizard lists it ("Scheduled" or "On demand"), with the regions that hold it and the vault's primary region.</summary>
public sealed record RestorePoint(Guid Id, string SnapshotId, DateTime CreatedAt, string Type, long Files, long Bytes, IReadOnlyList<string> Regions,
    string? PrimaryRegion = null)
{
    /// <summary>
    /// The region to read it from: the primary while it holds the point; the secondary only when the primary cannot be
    /// read now or has not got it (the help desk never has to choose between regions); null when no region can be read.
    /// </summary>
    public string? ReadFrom => Regions.Count == 0 ? null : PrimaryRegion is { } primary && Regions.Contains(primary) ? primary : Regions[0];

    /// <summary>Read from the secondary region because the primary cannot serve it now.</summary>
    public bool FromSecondary => ReadFrom is { } region && PrimaryRegion is { } primary && region != primary;
}

/// <summary>One entry of a point's folder, with whether it changed since the previous point.</summary>
public sealed record RestoreEntry(TreeEntry Entry, bool ChangedSincePrevious)
{
    public string Name => Entry.Path[(Entry.Path.LastIndexOf('/') + 1)..];
}

/// <summary>What a search inside a point found: at most <paramref name="Limit"/> entries, and whether more matched.</summary>
public sealed record RestoreSearchResult(IReadOnlyList<TreeEntry> Items, bool More, int Limit);
