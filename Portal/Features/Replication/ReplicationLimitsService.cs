using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Engine.Storage;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Regions;
using Portal.Features.Vaults;

namespace Portal.Features.Replication;

/// <summary>A vault's replication limits on its page: those in force, appsettings' defaults, and who set them in the portal.</summary>
public sealed record ReplicationLimitsView(
    ReplicationLimits InForce, ReplicationLimits Defaults, string DefaultSource, bool SetInPortal, string? ChangedBy, DateTime? ChangedAt, string? Pair);

/// <summary>
/// A GRS vault's replication limits set in the portal (issue 25: day-to-day settings without appsettings.json): read by
/// any viewer, set or reset to appsettings' defaults by a Backup.Contributor (checked here, audited, validated with what
/// is wrong per field). Replication reads them at its next pass (<see cref="ReplicationThrottle"/>).
/// </summary>
public sealed class ReplicationLimitsService(
    IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, AuditLog audit, IOptions<StorageOptions> storage, RegionCatalog regions, TimeProvider clock)
{
    public async Task<ReplicationLimitsView> GetAsync(Guid vaultId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view a vault's replication limits");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var vault = await db.Vaults.AsNoTracking().Where(v => v.Id == vaultId).Select(v => new { v.Name, v.Region }).FirstOrDefaultAsync(ct) ?? throw VaultService.Gone();
        var pair = regions.Find(vault.Region)?.PairedRegion;
        var (defaults, source) = Defaults(storage.Value, pair, vault.Name);
        var row = await db.VaultReplicationLimits.AsNoTracking().FirstOrDefaultAsync(l => l.VaultId == vaultId, ct);
        return new ReplicationLimitsView(row is null ? defaults : ReplicationLimits.From(row), defaults, source, row is not null, row?.ChangedBy, row?.ChangedAt, pair);
    }

    private static readonly VaultLimitsEdits.Kind<VaultReplicationLimits> Kind =
        new("replication limits", AuditActions.VaultReplicationThrottling, db => db.VaultReplicationLimits, ReplicationLimits.None.Describe());

    public Task SaveAsync(Guid vaultId, ReplicationLimitsRequest request, CancellationToken ct = default) =>
        VaultLimitsEdits.ChangeAsync(dbFactory, audit, clock, Kind, vaultId, request, ct);

    /// <summary>Forgets the portal's setting: the vault follows appsettings again.</summary>
    public Task ResetAsync(Guid vaultId, CancellationToken ct = default) =>
        VaultLimitsEdits.ChangeAsync(dbFactory, audit, clock, Kind, vaultId, null, ct);

    /// <summary>The limits in force for replicating <paramref name="vaultId"/> to <paramref name="pair"/>: the portal's, else appsettings'.</summary>
    internal static async Task<ReplicationLimits> InForceAsync(PortalDbContext db, StorageOptions storage, Guid vaultId, string pair, CancellationToken ct)
    {
        var row = await db.VaultReplicationLimits.AsNoTracking().FirstOrDefaultAsync(l => l.VaultId == vaultId, ct);
        if (row is not null)
            return ReplicationLimits.From(row);
        var name = await db.Vaults.AsNoTracking().Where(v => v.Id == vaultId).Select(v => v.Name).FirstOrDefaultAsync(ct);
        return Defaults(storage, pair, name).Limits;
    }

    /// <summary>appsettings' limits for a vault's writes to <paramref name="pair"/>: its VaultThrottling entry, else the region's Throttling.</summary>
    internal static (ReplicationLimits Limits, string Source) Defaults(StorageOptions storage, string? pair, string? vaultName)
    {
        var region = storage.Regions.FirstOrDefault(r => string.Equals(r.Name, pair, StringComparison.OrdinalIgnoreCase));
        if (region is null)
            return (ReplicationLimits.None, "no paired region");
        if (vaultName is not null && region.VaultThrottling.TryGetValue(vaultName, out var own))
            return (ReplicationLimits.From(own), $"Storage:Regions ({region.Name}): VaultThrottling:{vaultName}");
        return (ReplicationLimits.From(region.Throttling), region.Throttling is null ? $"Storage:Regions ({region.Name}): no Throttling" : $"Storage:Regions ({region.Name}): Throttling");
    }
}

/// <summary>The paired region's store of a vault as replication writes to it: paced by the vault's limits in force now.</summary>
public sealed class ReplicationThrottle(IDbContextFactory<PortalDbContext> dbFactory, RegionStores stores, IOptions<StorageOptions> storage)
{
    /// <summary>The vault's repository in <paramref name="pair"/>, and the limits it is paced by.</summary>
    public async Task<(IObjectStore Store, ReplicationLimits Limits)> SecondaryAsync(Guid vaultId, string pair, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var limits = await ReplicationLimitsService.InForceAsync(db, storage.Value, vaultId, pair, ct);
        return (stores.VaultPaced(vaultId, pair, limits.ToSchedule()), limits);
    }
}
