using System.Text.Json;
using Azure.Identity;
using Portal.Engine.Regions;
using Portal.Engine.Storage;

namespace Portal.Cli;

/// <summary>One replica location from the portal's <c>Storage:Regions</c> configuration.</summary>
internal sealed record ReplicaConfig(string Kind, string? Path, string? ConnectionString, string? AccountUrl, string? Container);

/// <summary>One region from the portal's configuration: its name, its pair and its replicas.</summary>
internal sealed record RegionConfig(string Name, string? PairedRegion, IReadOnlyList<ReplicaConfig> Replicas);

/// <summary>
/// A vault's repository found through the portal's own region configuration (<c>--config appsettings.json</c>), without
/// the portal or its database: the vault lives under <c>vaults/&lt;id&gt;</c> in its region's replicas (LRS, one logical
/// store) and, for GRS, in the paired region too. <c>--region</c> picks a region by name, or <c>primary</c>/<c>secondary</c>
/// relative to the vault's own region (<c>--vault-region</c>, or found when only one region holds the vault).
/// </summary>
internal sealed class VaultRegions
{
    private readonly string _root;

    private VaultRegions(string root, IReadOnlyList<RegionConfig> regions)
    {
        _root = root;
        Regions = regions;
    }

    public IReadOnlyList<RegionConfig> Regions { get; }

    /// <summary>Reads the <c>Storage</c> section. Relative replica folders are resolved like the portal does, against
    /// <c>Storage:Root</c>, which is itself relative to the configuration file's folder.</summary>
    public static VaultRegions Load(string file)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read the configuration file '{file}': {e.Message.TrimEnd('.')}");
        }
        catch (JsonException e)
        {
            throw new UsageException($"the configuration file '{file}' is not valid JSON: {e.Message.TrimEnd('.')}");
        }
        using (doc)
        {
            var storage = Prop(doc.RootElement, "Storage") ?? throw new UsageException($"'{file}' has no Storage section (Storage:Regions)");
            var root = Str(storage, "Root") ?? ".data/regions";
            var baseDir = Path.GetDirectoryName(Path.GetFullPath(file))!;
            var regions = new List<RegionConfig>();
            if (Prop(storage, "Regions") is { ValueKind: JsonValueKind.Array } list)
            {
                foreach (var r in list.EnumerateArray())
                {
                    var replicas = Prop(r, "Replicas") is { ValueKind: JsonValueKind.Array } reps
                        ? reps.EnumerateArray().Select(x => new ReplicaConfig(Str(x, "Kind") ?? "LocalDisk", Str(x, "Path"), Str(x, "ConnectionString"),
                            Str(x, "AccountUrl"), Str(x, "Container"))).ToList()
                        : [];
                    regions.Add(new RegionConfig(Str(r, "Name") ?? "", Str(r, "PairedRegion"), replicas));
                }
            }
            if (regions.Count == 0) throw new UsageException($"'{file}' configures no region (Storage:Regions is empty)");
            return new VaultRegions(Path.GetFullPath(Path.Combine(baseDir, root)), regions);
        }
    }

    /// <summary>With <c>--machine</c>: a registered machine's own repository inside the vault, instead of the vault's.</summary>
    public Guid? Machine { get; set; }

    /// <summary>The machine's id from <c>--machine</c> (shown on the Machines page).</summary>
    public static Guid MachineId(string machine) =>
        Guid.TryParse(machine, out var id)
            ? id
            : throw new UsageException($"--machine takes the machine's ID (a GUID, shown on the Machines page and by 'portal-agent status'), not '{machine}'");

    /// <summary>The vault's id from <c>--vault</c>; only an id works (the store does not know vault names).</summary>
    public static Guid VaultId(string vault) =>
        Guid.TryParse(vault, out var id)
            ? id
            : throw new UsageException($"--vault takes the vault's ID (a GUID, shown on the vault's page in the portal), not '{vault}': the store does not record vault names");

    /// <summary>Opens the vault's repository in the chosen region; returns the store and the region's name.</summary>
    public async Task<(IObjectStore Store, string Region)> OpenAsync(string vault, string? region, string? vaultRegion, CancellationToken ct)
    {
        var id = VaultId(vault);
        region ??= "primary";
        if (region is not ("primary" or "secondary"))
            return (Vault(Find(region), id), Find(region).Name);

        if (vaultRegion is not null)
        {
            var own = Find(vaultRegion);
            if (region == "primary") return (Vault(own, id), own.Name);
            var paired = own.PairedRegion is { } pr ? Find(pr)
                : throw new UsageException($"region {own.Name} has no paired region: the vault has no secondary copy");
            return (Vault(paired, id), paired.Name);
        }
        var (holding, unreachable) = await LocateAsync(id, ct).ConfigureAwait(false);
        var down = unreachable.Count > 0 ? $" (unreachable: {string.Join(", ", unreachable)})" : "";
        switch (holding.Count)
        {
            case 0:
                throw new UsageException($"no configured region holds vault {vault}{down}");
            case 1:
                // One readable copy: the vault's own region with no copy in the pair (LRS, or not replicated yet), or the
                // pair's copy while the own region is down or lost. Either way it is the only data there is to read.
                if (region == "secondary")
                    Console.Error.WriteLine($"note: only {holding[0].Name} holds vault {vault}{down}; reading that copy");
                return (Vault(holding[0], id), holding[0].Name);
            default:
                throw new UsageException($"vault {vault} has copies in {string.Join(" and ", holding.Select(h => h.Name))}{down}: " +
                    "name its own region with --vault-region (shown on the vault's page), or the region to read with --region NAME");
        }
    }

    /// <summary>The regions (reachable ones) whose copy of the vault holds <paramref name="objectName"/>, in configuration order.</summary>
    public async Task<IReadOnlyList<string>> RegionsHoldingAsync(string vault, string objectName, CancellationToken ct)
    {
        var id = VaultId(vault);
        var found = new List<string>();
        foreach (var r in Regions)
        {
            try
            {
                if (await Vault(r, id).StatAsync(objectName, ct).ConfigureAwait(false) is not null) found.Add(r.Name);
            }
            catch (StoreException) { } // unreachable: it cannot be shown as holding anything
        }
        return found;
    }

    /// <summary>Which regions hold the vault (its config object), and which could not be asked.</summary>
    public async Task<(List<RegionConfig> Holding, List<string> Unreachable)> LocateAsync(Guid vaultId, CancellationToken ct)
    {
        var holding = new List<RegionConfig>();
        var unreachable = new List<string>();
        foreach (var r in Regions)
        {
            try
            {
                if (await Vault(r, vaultId).StatAsync("config", ct).ConfigureAwait(false) is not null) holding.Add(r);
            }
            catch (StoreException) { unreachable.Add(r.Name); }
        }
        return (holding, unreachable);
    }

    public RegionConfig Find(string name) =>
        Regions.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new UsageException($"region '{name}' is not configured (configured: {string.Join(", ", Regions.Select(r => r.Name))}; or use primary, secondary)");

    /// <summary>The vault's repository in <paramref name="region"/>: the engine's region store chain (the portal's), with its layout.</summary>
    public IObjectStore Vault(RegionConfig region, Guid vaultId)
    {
        var regionStore = RegionStore.Build([.. region.Replicas.Select(r => Replica(region, r))], new RegionStoreOptions
        {
            OnRetry = (replica, message) => Console.Error.WriteLine($"note: region {region.Name}, replica {replica.Description}: {message}"),
        });
        return Machine is { } machine ? new PrefixedStore(regionStore, VaultLayout.MachinePrefix(vaultId, machine)) : VaultLayout.Open(regionStore, vaultId);
    }

    private ReplicaLocation Replica(RegionConfig region, ReplicaConfig r)
    {
        if (string.Equals(r.Kind, "LocalDisk", StringComparison.OrdinalIgnoreCase))
            return ReplicaLocation.Folder(Path.Combine(_root, r.Path ?? throw new UsageException($"region {region.Name}: a LocalDisk replica has no Path")));
        if (!string.Equals(r.Kind, "AzureBlob", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"region {region.Name}: replica kind '{r.Kind}' is unknown (LocalDisk or AzureBlob)");
        var container = r.Container ?? throw new UsageException($"region {region.Name}: an AzureBlob replica has no Container");
        if (!string.IsNullOrWhiteSpace(r.ConnectionString)) return ReplicaLocation.AzureBlob(r.ConnectionString, container);
        if (Uri.TryCreate(r.AccountUrl, UriKind.Absolute, out var url)) return ReplicaLocation.AzureBlob(url, container, new DefaultAzureCredential());
        throw new UsageException($"region {region.Name}: an AzureBlob replica needs a ConnectionString or an AccountUrl");
    }

    private static JsonElement? Prop(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in e.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }

    private static string? Str(JsonElement e, string name) => Prop(e, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
}
