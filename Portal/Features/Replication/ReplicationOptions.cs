using System.ComponentModel.DataAnnotations;

namespace Portal.Features.Replication;

/// <summary>The <c>Replication</c> section: how often GRS vaults are copied to their paired region, and LRS copies repaired.</summary>
public sealed class ReplicationOptions
{
    public const string Section = "Replication";

    /// <summary>Pause between replication passes (default 5 minutes).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Replication:Interval must be between 1 second and 1 day.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Pause between passes that rewrite the LRS copies recorded for repair (default 1 minute).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Replication:RepairInterval must be between 1 second and 1 day.")]
    public TimeSpan RepairInterval { get; set; } = TimeSpan.FromMinutes(1);
}
