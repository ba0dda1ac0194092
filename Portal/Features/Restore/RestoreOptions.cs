using Microsoft.Extensions.Options;

namespace Portal.Features.Restore;

/// <summary>Settings of restores (appsettings <c>Restore</c>).</summary>
public sealed class RestoreOptions
{
    public const string Section = "Restore";

    /// <summary>Folders under which an alternate restore location may lie. Deny by default: none, no alternate restores.</summary>
    public List<string> Roots { get; set; } = [];

    /// <summary>The largest folder (sum of file sizes) a browser may download as a zip.</summary>
    public long MaxZipBytes { get; set; } = 1L << 30;

    /// <summary>The largest text file the wizard previews.</summary>
    public int PreviewMaxBytes { get; set; } = 256 * 1024;
}

internal sealed class RestoreOptionsValidator : IValidateOptions<RestoreOptions>
{
    public ValidateOptionsResult Validate(string? name, RestoreOptions options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.Roots.Count; i++)
            if (!Path.IsPathFullyQualified(options.Roots[i]))
                errors.Add($"Restore:Roots:{i} (\"{options.Roots[i]}\") must be an absolute folder such as /srv/restores.");
        if (options.MaxZipBytes < 1)
            errors.Add("Restore:MaxZipBytes must be a positive number of bytes.");
        if (options.PreviewMaxBytes is < 1 or > 16 * 1024 * 1024)
            errors.Add("Restore:PreviewMaxBytes must be between 1 and 16 MiB.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
