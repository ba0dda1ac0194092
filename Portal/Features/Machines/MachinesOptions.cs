using System.ComponentModel.DataAnnotations;

namespace Portal.Features.Machines;

/// <summary>The <c>Machines</c> section: how the portal treats registered machines.</summary>
public sealed class MachinesOptions
{
    public const string Section = "Machines";

    /// <summary>
    /// The address machines reach the portal at (written into credentials files), e.g. https://backup.contoso.com; empty:
    /// the address the operator's browser used.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>How long a queued job of an offline machine waits for it before failing (default 2 hours).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00", ErrorMessage = "Machines:OfflineWindow must be between 1 minute and 7 days.")]
    public TimeSpan OfflineWindow { get; set; } = MachineRules.DefaultOfflineWindow;
}
