using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Azure.Identity;
using Microsoft.Extensions.Options;
using Portal.Engine.Regions;
using Portal.Engine.Replication;
using Portal.Engine.Storage;

namespace Portal.Features.Regions;

/// <summary>
/// The storage of each configured region: its replicas (local folders or Azure Blob containers) read from the
/// <c>Storage</c> section, built into the engine's region store chain (<see cref="RegionStore"/>). A vault's repository
/// is the engine's <see cref="VaultLayout"/> in its region's store; a GRS vault has the same prefix in the paired region.
/// </summary>
public sealed class RegionStores(IOptions<StorageOptions> options, ILogger<RegionStores> logger, TimeProvider? time = null, RepairJournals? journals = null)
{
    private readonly ConcurrentDictionary<string, Lazy<ReplicatedStore>> regions = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The LRS store of <paramref name="region"/>.</summary>
    public ReplicatedStore Region(string region) =>
        regions.GetOrAdd(region, name => new Lazy<ReplicatedStore>(() => Build(name))).Value;

    private readonly ConcurrentDictionary<string, TokenBucket?> buckets = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A vault's repository in <paramref name="region"/> (its own region, or the pair for GRS). Uploads go through the
    /// region's throttle (one limit shared by the region's vaults), or the vault's own when
    /// <c>VaultThrottling</c> names <paramref name="vaultName"/>. GRS replication to the pair goes through the pair's limit.
    /// </summary>
    public IObjectStore Vault(Guid vaultId, string region, string? vaultName = null) =>
        VaultLayout.Open(Region(region), vaultId, Throttle(region, vaultName));

    /// <summary>
    /// A vault's repository in <paramref name="region"/> paced by <paramref name="limits"/> alone (a bucket of its own; null:
    /// no limit): GRS replication under the vault's replication limits.
    /// </summary>
    public IObjectStore VaultPaced(Guid vaultId, string region, BandwidthSchedule? limits) =>
        VaultLayout.Open(Region(region), vaultId, limits is null ? null : new TokenBucket(limits.LimitAt, time ?? TimeProvider.System));

    private readonly ConcurrentDictionary<Guid, (TokenBucket Bucket, StrongBox<BandwidthSchedule?> Limits)> vaultBuckets = new();

    /// <summary>
    /// A vault's repository in <paramref name="region"/> paced by <paramref name="limits"/> (null: no limit) instead of
    /// appsettings: the vault's backup upload limits set in the portal. Every store opened for the vault shares one bucket,
    /// which follows the latest limits given here (an engine opened earlier is paced by them too).
    /// </summary>
    public IObjectStore VaultLimited(Guid vaultId, string region, BandwidthSchedule? limits)
    {
        var paced = vaultBuckets.GetOrAdd(vaultId, _ =>
        {
            var box = new StrongBox<BandwidthSchedule?>();
            return (new TokenBucket(now => Volatile.Read(ref box.Value)?.LimitAt(now), time ?? TimeProvider.System), box);
        });
        Volatile.Write(ref paced.Limits.Value, limits);
        return VaultLayout.Open(Region(region), vaultId, paced.Bucket);
    }

    /// <summary>
    /// A registered machine's own repository in its vault (<see cref="VaultLayout.MachinePrefix"/>) in <paramref name="region"/>,
    /// under the same upload throttle as the vault's own repository.
    /// </summary>
    public IObjectStore Machine(Guid vaultId, string region, Guid machineId, string? vaultName = null)
    {
        IObjectStore store = new PrefixedStore(Region(region), VaultLayout.MachinePrefix(vaultId, machineId));
        return Throttle(region, vaultName) is { } throttle ? new ThrottledStore(store, throttle) : store;
    }

    private TokenBucket? Throttle(string region, string? vaultName)
    {
        var settings = options.Value.Regions.FirstOrDefault(r => string.Equals(r.Name, region, StringComparison.OrdinalIgnoreCase));
        if (settings is null)
            return null;
        var key = vaultName is not null && settings.VaultThrottling.ContainsKey(vaultName) ? $"{region}/{vaultName}" : region;
        return buckets.GetOrAdd(key, _ =>
        {
            var throttling = key == region ? settings.Throttling : settings.VaultThrottling[vaultName!];
            if (throttling is null)
                return null;
            var schedule = throttling.ToSchedule();
            return new TokenBucket(schedule.LimitAt, time ?? TimeProvider.System);
        });
    }

    public static string VaultPrefix(Guid vaultId) => VaultLayout.Prefix(vaultId);

    /// <summary>
    /// Where a vault's repository lies in each replica of <paramref name="region"/>, as the CLI's <c>--repo</c> takes it
    /// for a folder (or the container and prefix of an Azure replica); never a secret. Empty for an unknown region.
    /// </summary>
    public IReadOnlyList<string> RepositoryPaths(Guid vaultId, string region) =>
        options.Value.Regions.FirstOrDefault(r => string.Equals(r.Name, region, StringComparison.OrdinalIgnoreCase)) is { } settings
            ? [.. settings.Replicas.Select(replica => replica.Kind == ReplicaKinds.LocalDisk
                ? Path.Combine(LocalPath(replica), VaultLayout.Prefix(vaultId))
                : $"Azure Blob container {replica.Container}, under {VaultLayout.Prefix(vaultId)}/")]
            : [];

    /// <summary>Creates the folders and containers of every replica; an unreachable one is logged, not fatal.</summary>
    public async Task PrepareAsync(CancellationToken ct)
    {
        foreach (var region in options.Value.Regions)
        {
            foreach (var replica in region.Replicas)
            {
                var location = Location(replica);
                try
                {
                    await location.PrepareAsync(ct);
                }
                catch (Exception e) when (e is StoreException or IOException or UnauthorizedAccessException)
                {
                    logger.LogWarning("Region {Region}: replica {Replica} is not available yet: {Reason}", region.Name, location.Description, e.Message);
                }
            }
        }
    }

    private ReplicatedStore Build(string name)
    {
        var region = options.Value.Regions.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"Region \"{name}\" is not configured.");
        var journal = journals?.For(region.Name);
        return RegionStore.Build([.. region.Replicas.Select(Location)], new RegionStoreOptions
        {
            OnRetry = (replica, message) => logger.LogWarning("Region {Region}, replica {Replica}: {Retry}", name, replica.Description, message),
            Replicated = stores => new ReplicatedStore(stores, journal),
        });
    }

    private string LocalPath(ReplicaOptions replica) => Path.GetFullPath(Path.Combine(options.Value.Root, replica.Path!));

    private ReplicaLocation Location(ReplicaOptions replica) =>
        replica.Kind == ReplicaKinds.LocalDisk ? ReplicaLocation.Folder(LocalPath(replica))
        : string.IsNullOrWhiteSpace(replica.ConnectionString) ? ReplicaLocation.AzureBlob(new Uri(replica.AccountUrl!), replica.Container!, new DefaultAzureCredential())
        : ReplicaLocation.AzureBlob(replica.ConnectionString, replica.Container!);
}
