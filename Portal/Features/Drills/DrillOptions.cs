namespace Portal.Features.Drills;

/// <summary>Where drills restore (<c>Restore:DrillRoot</c>): a scratch folder on the machine that restores, emptied after each drill.</summary>
public sealed class DrillOptions
{
    public const string Section = "Restore";

    /// <summary>Absolute folder for drills' scratch copies (default: a folder under the system's temporary folder).</summary>
    public string DrillRoot { get; set; } = Path.Combine(Path.GetTempPath(), "portal-drills");
}

internal sealed class DrillOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<DrillOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, DrillOptions options) =>
        Path.IsPathFullyQualified(options.DrillRoot)
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Success
            : Microsoft.Extensions.Options.ValidateOptionsResult.Fail($"Restore:DrillRoot (\"{options.DrillRoot}\") must be an absolute folder such as /var/tmp/portal-drills.");
}
