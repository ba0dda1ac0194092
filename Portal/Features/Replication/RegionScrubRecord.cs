namespace Portal.Features.Replication;

/// <summary>The findings of a region's latest replica scrub: one row per region, replaced by each scrub.</summary>
public sealed class RegionScrubRecord
{
    public string Region { get; set; } = "";
    public DateTime StartedAt { get; set; }
    public DateTime FinishedAt { get; set; }

    /// <summary>Distinct objects compared across the replicas.</summary>
    public int Objects { get; set; }

    /// <summary>Missing or damaged copies found.</summary>
    public int Issues { get; set; }

    /// <summary>Copies rewritten from a good copy.</summary>
    public int Healed { get; set; }

    /// <summary>Objects with no good copy on any reachable replica.</summary>
    public List<string> Lost { get; set; } = [];

    /// <summary>Replicas (indexes from 0) that could not be listed, so were not compared.</summary>
    public List<int> UnreachableReplicas { get; set; } = [];
}
