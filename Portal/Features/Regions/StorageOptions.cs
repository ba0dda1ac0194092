using System.ComponentModel.DataAnnotations;

namespace Portal.Features.Regions;

/// <summary>The <c>Storage</c> section of appsettings: the regions vaults can be created in.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Folder that relative local-disk replica paths are resolved against (default <c>.data/regions</c> under the working folder).</summary>
    public string Root { get; set; } = ".data/regions";

    /// <summary>
    /// When every region's replicas are scrubbed: compared object by object, each missing or damaged copy rewritten from a
    /// good one (Quartz cron, UTC; default Sundays at 02:00).
    /// </summary>
    public string ScrubCron { get; set; } = "0 0 2 ? * SUN";

    [Required, MinLength(1, ErrorMessage = "Storage:Regions must list at least one region.")]
    public List<RegionOptions> Regions { get; set; } = [];
}

/// <summary>One storage region: a name, an optional paired region for GRS, and its replica locations.</summary>
public sealed class RegionOptions
{
    public string Name { get; set; } = "";
    public string? DisplayName { get; set; }

    /// <summary>The region GRS vaults copy to; must be another configured region that pairs back.</summary>
    public string? PairedRegion { get; set; }

    /// <summary>The region's replica locations (three for LRS, ideally on three disks).</summary>
    public List<ReplicaOptions> Replicas { get; set; } = [];

    /// <summary>Upload bandwidth limits of backups to this region (none: unlimited).</summary>
    public ThrottlingOptions? Throttling { get; set; }

    /// <summary>Per vault (by vault name): limits that replace the region's for that vault's backups.</summary>
    public Dictionary<string, ThrottlingOptions> VaultThrottling { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// Upload bandwidth limits as Azure Backup's MARS agent sets them: megabits per second during work hours and at other
/// times (absent or 0: unlimited), with the work days and hours in a time zone.
/// </summary>
public sealed class ThrottlingOptions
{
    public double? WorkHoursMbps { get; set; }
    public double? NonWorkHoursMbps { get; set; }
    public List<DayOfWeek> WorkDays { get; set; } = [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday];
    public string WorkStart { get; set; } = "08:00";
    public string WorkEnd { get; set; } = "18:00";

    /// <summary>IANA time zone of the work hours (default UTC).</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>The engine's schedule (call only on validated options).</summary>
    public Portal.Engine.Storage.BandwidthSchedule ToSchedule() => new()
    {
        WorkHoursBytesPerSecond = BytesPerSecond(WorkHoursMbps), OtherHoursBytesPerSecond = BytesPerSecond(NonWorkHoursMbps),
        WorkDays = WorkDays.ToHashSet(), WorkStart = TimeOnly.Parse(WorkStart, System.Globalization.CultureInfo.InvariantCulture),
        WorkEnd = TimeOnly.Parse(WorkEnd, System.Globalization.CultureInfo.InvariantCulture), TimeZone = TimeZoneInfo.FindSystemTimeZoneById(TimeZone),
    };

    private static long? BytesPerSecond(double? mbps) => mbps is > 0 ? (long)(mbps.Value * 1_000_000 / 8) : null;
}

/// <summary>Where one replica of a region lives.</summary>
public sealed class ReplicaOptions
{
    /// <summary><c>LocalDisk</c> (the default) or <c>AzureBlob</c>.</summary>
    public string Kind { get; set; } = ReplicaKinds.LocalDisk;

    /// <summary>Folder of a LocalDisk replica; relative paths are under <see cref="StorageOptions.Root"/>.</summary>
    public string? Path { get; set; }

    /// <summary>Connection string of an AzureBlob replica (Azurite and development).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Account URL of an AzureBlob replica signed in with DefaultAzureCredential (production).</summary>
    public string? AccountUrl { get; set; }

    /// <summary>Container of an AzureBlob replica.</summary>
    public string? Container { get; set; }
}

public static class ReplicaKinds
{
    public const string LocalDisk = "LocalDisk";
    public const string AzureBlob = "AzureBlob";
}
