using Microsoft.Extensions.Options;
using Portal.Engine.Crypto;

namespace Portal.Features.Protection;

/// <summary>Settings of protection (appsettings <c>Protection</c>).</summary>
public sealed class ProtectionOptions
{
    public const string Section = "Protection";

    /// <summary>
    /// Folders under which "Files and folders" items may lie. Deny by default: with none configured, nothing can be
    /// protected (the portal reads what it backs up, and a restore or download gives it back to whoever may restore).
    /// </summary>
    public List<string> SourceRoots { get; set; } = [];

    /// <summary>Folder of the Data Protection key ring that seals vault keys for unattended backups.</summary>
    public string KeyRingPath { get; set; } = ".data/keys";

    /// <summary>Argon2id cost for new vault passphrases (lower it only for tests).</summary>
    public int KdfMemoryKiB { get; set; } = KdfParameters.Default.MemoryKiB;
    public int KdfIterations { get; set; } = KdfParameters.Default.Iterations;

    /// <summary>When the retention run removes expired recovery points and purges soft-deleted data (Quartz cron, UTC).</summary>
    public string RetentionCron { get; set; } = "0 15 * * * ?";

    /// <summary>When each vault's nightly verification is queued (Quartz cron, UTC): its structure, and the next share of its data.</summary>
    public string VerificationCron { get; set; } = "0 30 1 * * ?";

    internal KdfParameters Kdf => new(KdfMemoryKiB, KdfIterations);
}

internal sealed class ProtectionOptionsValidator : IValidateOptions<ProtectionOptions>
{
    public ValidateOptionsResult Validate(string? name, ProtectionOptions options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.SourceRoots.Count; i++)
            if (!Path.IsPathFullyQualified(options.SourceRoots[i]))
                errors.Add($"Protection:SourceRoots:{i} (\"{options.SourceRoots[i]}\") must be an absolute folder such as /srv/data.");
        if (string.IsNullOrWhiteSpace(options.KeyRingPath))
            errors.Add("Protection:KeyRingPath is empty: give the folder that keeps the portal's Data Protection key ring.");
        if (options.KdfMemoryKiB < 1024 || options.KdfIterations < 1)
            errors.Add("Protection:KdfMemoryKiB must be at least 1024 and Protection:KdfIterations at least 1.");
        if (!Quartz.CronExpression.TryParse(options.RetentionCron, out _))
            errors.Add($"Protection:RetentionCron (\"{options.RetentionCron}\") is not a valid Quartz cron expression, e.g. \"0 15 * * * ?\" (hourly at :15).");
        if (!Quartz.CronExpression.TryParse(options.VerificationCron, out _))
            errors.Add($"Protection:VerificationCron (\"{options.VerificationCron}\") is not a valid Quartz cron expression, e.g. \"0 30 1 * * ?\" (daily at 01:30 UTC).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
