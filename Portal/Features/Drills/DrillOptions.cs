namespace Portal.Features.Drills;

/// <summary>Where drills restore (<c>Restore:DrillRoot</c>): a scratch folder on the machine that restores, emptied after each drill.</summary>
public sealed class DrillOptions
{
    public const string Section = "Restore";

    /// <summary>Absolute folder for drills' scratch copies (default: a folder under the system's temporary folder).</summary>
    public string DrillRoot { get; set; } = Path.Combine(Path.GetTempPath(), "portal-drills");

    /// <summary>
    /// An item whose drills are expected (a drill schedule or an RTO target in force) and that has no passing drill in
    /// this many days raises an alert, and no longer counts as proven recoverable (<c>Restore:DrillMaxAgeDays</c>, default 30).
    /// </summary>
    public int DrillMaxAgeDays { get; set; } = 30;

    public TimeSpan DrillMaxAge => TimeSpan.FromDays(DrillMaxAgeDays);

    /// <summary>How long a database item's check query may run on the restored copy (<c>Restore:CheckQueryTimeoutSeconds</c>, default 60).</summary>
    public int CheckQueryTimeoutSeconds { get; set; } = 60;
}

internal sealed class DrillOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<DrillOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, DrillOptions options) =>
        !Path.IsPathFullyQualified(options.DrillRoot)
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail($"Restore:DrillRoot (\"{options.DrillRoot}\") must be an absolute folder such as /var/tmp/portal-drills.")
            : options.DrillMaxAgeDays is < 1 or > 3660
                ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail($"Restore:DrillMaxAgeDays ({options.DrillMaxAgeDays}) must be a number of days from 1 to 3660.")
                : options.CheckQueryTimeoutSeconds is < 1 or > 86400
                    ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail($"Restore:CheckQueryTimeoutSeconds ({options.CheckQueryTimeoutSeconds}) must be a number of seconds from 1 to 86400.")
                    : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
}
