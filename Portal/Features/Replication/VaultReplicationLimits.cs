namespace Portal.Features.Replication;

/// <summary>
/// A vault's replication limits set in the portal (issue 25): how fast its GRS replication may write to the paired
/// region during work hours and at other times, and what the work hours are. A vault without a row uses appsettings
/// (<c>Storage:Regions:&lt;pair&gt;:VaultThrottling:&lt;vault&gt;</c>, else the pair's <c>Throttling</c>).
/// </summary>
public sealed class VaultReplicationLimits : VaultBandwidthLimits;

/// <summary>
/// A vault's bandwidth limits as the portal stores them (one row per vault): megabits per second during work hours and at
/// other times, and the work hours. <see cref="VaultReplicationLimits"/> pace GRS replication; the vault's backup upload
/// limits (Protection) pace the host's own backups.
/// </summary>
public abstract class VaultBandwidthLimits
{
    public Guid VaultId { get; set; }

    /// <summary>Megabits per second during work hours; null: no limit.</summary>
    public double? WorkHoursMbps { get; set; }

    /// <summary>Megabits per second at other times; null: no limit.</summary>
    public double? OtherHoursMbps { get; set; }

    /// <summary>The work days, as <see cref="DayOfWeek"/> numbers (0 = Sunday).</summary>
    public int[] WorkDays { get; set; } = [];

    public TimeOnly WorkStart { get; set; }
    public TimeOnly WorkEnd { get; set; }

    /// <summary>IANA time zone of the work hours.</summary>
    public string TimeZone { get; set; } = "UTC";

    public DateTime ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";
}
