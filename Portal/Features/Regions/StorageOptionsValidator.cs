using Microsoft.Extensions.Options;

namespace Portal.Features.Regions;

/// <summary>Checks the region configuration at start, naming each mistake and how to fix it.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Regions.Count; i++)
        {
            var region = options.Regions[i];
            var where = $"Storage:Regions:{i}";
            if (string.IsNullOrWhiteSpace(region.Name))
                errors.Add($"{where}:Name is empty: give every region a name such as \"east\".");
            else if (!names.Add(region.Name))
                errors.Add($"{where}:Name \"{region.Name}\" is used by two regions: region names must be unique.");
            if (region.Replicas.Count is < 1 or > 3)
                errors.Add($"{where} (\"{region.Name}\") has {region.Replicas.Count} replicas: configure one to three (three for LRS).");
            for (var r = 0; r < region.Replicas.Count; r++)
                ValidateReplica(region.Replicas[r], $"{where}:Replicas:{r}", errors);
            if (region.Throttling is { } throttling)
                ValidateThrottling(throttling, $"{where}:Throttling", errors);
            foreach (var (vault, vaultThrottling) in region.VaultThrottling)
                ValidateThrottling(vaultThrottling, $"{where}:VaultThrottling:{vault}", errors);
        }

        foreach (var region in options.Regions.Where(r => !string.IsNullOrWhiteSpace(r.PairedRegion)))
        {
            var pair = options.Regions.FirstOrDefault(r => string.Equals(r.Name, region.PairedRegion, StringComparison.OrdinalIgnoreCase));
            if (pair is null)
                errors.Add($"Region \"{region.Name}\" is paired with \"{region.PairedRegion}\", which is not a configured region.");
            else if (string.Equals(pair.Name, region.Name, StringComparison.OrdinalIgnoreCase))
                errors.Add($"Region \"{region.Name}\" is paired with itself: a paired region must be another region.");
            else if (!string.Equals(pair.PairedRegion, region.Name, StringComparison.OrdinalIgnoreCase))
                errors.Add($"Region \"{region.Name}\" is paired with \"{pair.Name}\", but \"{pair.Name}\" is not paired back: set its PairedRegion to \"{region.Name}\".");
        }

        if (!Quartz.CronExpression.TryParse(options.ScrubCron, out _))
            errors.Add($"Storage:ScrubCron (\"{options.ScrubCron}\") is not a valid Quartz cron expression, e.g. \"0 0 2 ? * SUN\" (Sundays at 02:00 UTC).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateThrottling(ThrottlingOptions t, string where, List<string> errors)
    {
        if (t.WorkHoursMbps is < 0 || t.NonWorkHoursMbps is < 0)
            errors.Add($"{where}: WorkHoursMbps and NonWorkHoursMbps are megabits per second, 0 or more (0 or absent: unlimited).");
        if (t.WorkHoursMbps is > 0 and < 0.064 || t.NonWorkHoursMbps is > 0 and < 0.064)
            errors.Add($"{where}: the lowest limit is 0.064 Mbps (8 KB/s), as in Azure Backup's agent.");
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        if (!TimeOnly.TryParseExact(t.WorkStart, "HH:mm", culture, System.Globalization.DateTimeStyles.None, out var start))
            errors.Add($"{where}:WorkStart (\"{t.WorkStart}\") is not a time such as 08:00.");
        if (!TimeOnly.TryParseExact(t.WorkEnd, "HH:mm", culture, System.Globalization.DateTimeStyles.None, out var end))
            errors.Add($"{where}:WorkEnd (\"{t.WorkEnd}\") is not a time such as 18:00.");
        else if (end <= start)
            errors.Add($"{where}: WorkEnd ({t.WorkEnd}) must be after WorkStart ({t.WorkStart}).");
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(t.TimeZone, out _))
            errors.Add($"{where}:TimeZone (\"{t.TimeZone}\") is not a known time zone such as Europe/Berlin.");
    }

    private static void ValidateReplica(ReplicaOptions replica, string where, List<string> errors)
    {
        switch (replica.Kind)
        {
            case ReplicaKinds.LocalDisk when string.IsNullOrWhiteSpace(replica.Path):
                errors.Add($"{where}:Path is empty: a LocalDisk replica needs a folder.");
                break;
            case ReplicaKinds.LocalDisk:
                break;
            case ReplicaKinds.AzureBlob when string.IsNullOrWhiteSpace(replica.Container):
                errors.Add($"{where}:Container is empty: an AzureBlob replica needs a container name.");
                break;
            case ReplicaKinds.AzureBlob when string.IsNullOrWhiteSpace(replica.ConnectionString) == string.IsNullOrWhiteSpace(replica.AccountUrl):
                errors.Add($"{where}: set exactly one of ConnectionString (Azurite, development) or AccountUrl (production, DefaultAzureCredential).");
                break;
            case ReplicaKinds.AzureBlob when replica.AccountUrl is { Length: > 0 } url
                                           && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps):
                errors.Add($"{where}:AccountUrl \"{url}\" is not an https address such as https://ACCOUNT.blob.core.windows.net.");
                break;
            case ReplicaKinds.AzureBlob:
                break;
            default:
                errors.Add($"{where}:Kind \"{replica.Kind}\" is unknown: use \"{ReplicaKinds.LocalDisk}\" or \"{ReplicaKinds.AzureBlob}\".");
                break;
        }
    }
}
