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

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
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
