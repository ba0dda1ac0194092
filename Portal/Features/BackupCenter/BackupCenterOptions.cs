using System.ComponentModel.DataAnnotations;

namespace Portal.Features.BackupCenter;

/// <summary>The <c>BackupCenter</c> section.</summary>
public sealed class BackupCenterOptions
{
    public const string Section = "BackupCenter";

    /// <summary>How often every vault's storage is measured in each region that holds it (default 1 hour).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "BackupCenter:StorageInterval must be between 1 second and 1 day.")]
    public TimeSpan StorageInterval { get; set; } = TimeSpan.FromHours(1);
}
