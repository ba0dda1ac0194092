namespace Portal.Features.Regions;

/// <summary>
/// One copy of an object that a replica of a region is missing or holds damaged (a write that reached only a majority,
/// a bad copy a read found, a heal that failed), kept until the repair pass rewrites it. Durable, so a restart loses
/// no repair.
/// </summary>
public sealed class ReplicaRepair
{
    public string Region { get; set; } = "";

    /// <summary>The replica's index in the region's configuration, from 0.</summary>
    public int Replica { get; set; }

    /// <summary>The object's name in the region's store, e.g. <c>vaults/{id}/data/ab/…</c>.</summary>
    public string ObjectName { get; set; } = "";

    /// <summary>Why the copy needs repair, as first seen (e.g. "put failed: …").</summary>
    public string Reason { get; set; } = "";

    public DateTime FirstSeenAt { get; set; }

    /// <summary>Repairs tried and failed so far.</summary>
    public int Attempts { get; set; }

    public DateTime? LastAttemptAt { get; set; }

    /// <summary>Why the last repair failed.</summary>
    public string? LastError { get; set; }
}
