using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Engine.Storage;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Features.Regions;
using Portal.Features.Replication;
using Portal.Features.Vaults;

namespace Portal.Features.Protection;

/// <summary>
/// A vault's backup upload limits set in the portal (issue 25): how fast this host's backups of the vault may write to its
/// region during work hours and at other times. A vault without a row uses appsettings
/// (<c>Storage:Regions:&lt;region&gt;:VaultThrottling:&lt;vault&gt;</c>, else the region's <c>Throttling</c>).
/// </summary>
public sealed class VaultUploadLimits : VaultBandwidthLimits;

/// <summary>
/// A vault's backup upload limits on its page: read by any viewer, set or reset to appsettings' defaults by a
/// Backup.Contributor (checked, audited as <see cref="AuditActions.VaultBackupUploadLimits"/>, validated per field). The
/// vault's next opening for a backup (<see cref="VaultKeys"/>) paces its uploads by them.
/// </summary>
public sealed class UploadLimitsService(
    IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, AuditLog audit, IOptions<StorageOptions> storage, TimeProvider clock)
{
    /// <summary>What the limits say when nothing is limited.</summary>
    public const string Unlimited = "No limit: backups upload as fast as the region takes it.";

    private static readonly VaultLimitsEdits.Kind<VaultUploadLimits> Kind =
        new("backup upload limits", AuditActions.VaultBackupUploadLimits, db => db.VaultUploadLimits, Unlimited);

    public async Task<ReplicationLimitsView> GetAsync(Guid vaultId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view a vault's backup upload limits");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var vault = await db.Vaults.AsNoTracking().Where(v => v.Id == vaultId).Select(v => new { v.Name, v.Region }).FirstOrDefaultAsync(ct) ?? throw VaultService.Gone();
        var (defaults, source) = ReplicationLimitsService.Defaults(storage.Value, vault.Region, vault.Name);
        var row = await db.VaultUploadLimits.AsNoTracking().FirstOrDefaultAsync(l => l.VaultId == vaultId, ct);
        return new ReplicationLimitsView(row is null ? defaults : ReplicationLimits.From(row), defaults, source, row is not null, row?.ChangedBy, row?.ChangedAt, null);
    }

    public Task SaveAsync(Guid vaultId, ReplicationLimitsRequest request, CancellationToken ct = default) =>
        VaultLimitsEdits.ChangeAsync(dbFactory, audit, clock, Kind, vaultId, request, ct);

    /// <summary>Forgets the portal's setting: the vault's backups follow appsettings again.</summary>
    public Task ResetAsync(Guid vaultId, CancellationToken ct = default) =>
        VaultLimitsEdits.ChangeAsync(dbFactory, audit, clock, Kind, vaultId, null, ct);

    /// <summary>
    /// The vault's repository as this host's backups write to it: paced by the limits set in the portal (one pace per vault,
    /// shared by its concurrent backups), else by appsettings' throttling as <see cref="RegionStores.Vault"/> has it.
    /// </summary>
    internal static async Task<IObjectStore> StoreAsync(PortalDbContext db, RegionStores stores, Guid vaultId, string region, string? vaultName, CancellationToken ct)
    {
        var row = await db.VaultUploadLimits.AsNoTracking().FirstOrDefaultAsync(l => l.VaultId == vaultId, ct);
        return row is null ? stores.Vault(vaultId, region, vaultName) : stores.VaultLimited(vaultId, region, ReplicationLimits.From(row).ToSchedule());
    }
}
