using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Vaults;

namespace Portal.Features.Replication;

/// <summary>
/// Setting or resetting one kind of a vault's bandwidth limits (<see cref="VaultBandwidthLimits"/>): a Backup.Contributor
/// only, fields checked with what is wrong per field, the change audited as "before → after". Replication limits and
/// backup upload limits both go through here.
/// </summary>
internal static class VaultLimitsEdits
{
    /// <summary>What a kind of limits is called in errors and audit entries, its audit action, its rows and its "no limit" wording.</summary>
    public sealed record Kind<TRow>(string What, string Action, Func<PortalDbContext, DbSet<TRow>> Rows, string Unlimited) where TRow : VaultBandwidthLimits, new();

    /// <summary>Saves <paramref name="request"/> as the vault's limits of <paramref name="kind"/>; null forgets them (appsettings' defaults again).</summary>
    public static Task ChangeAsync<TRow>(IDbContextFactory<PortalDbContext> dbFactory, AuditLog audit, TimeProvider clock, Kind<TRow> kind,
        Guid vaultId, ReplicationLimitsRequest? request, CancellationToken ct) where TRow : VaultBandwidthLimits, new() =>
        audit.GuardAsync(kind.Action, $"vault/{vaultId}", async user =>
        {
            Access.Require(user, $"change a vault's {kind.What}", PortalRoles.Contributor);
            ReplicationLimits? limits = null;
            if (request is not null)
            {
                (limits, var problems) = request.Read();
                if (limits is null)
                    throw new PortalValidationException(problems);
            }

            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct) ?? throw VaultService.Gone();
            var rows = kind.Rows(db);
            var row = await rows.FirstOrDefaultAsync(l => l.VaultId == vaultId, ct);
            const string Defaults = "appsettings' defaults";
            var before = row is null ? Defaults : ReplicationLimits.From(row).Describe(kind.Unlimited);
            if (limits is null)
            {
                if (row is null)
                    return;
                rows.Remove(row);
            }
            else
            {
                if (row is null)
                    rows.Add(row = new TRow { VaultId = vaultId });
                (row.WorkHoursMbps, row.OtherHoursMbps, row.WorkStart, row.WorkEnd, row.TimeZone) =
                    (limits.WorkHoursMbps, limits.OtherHoursMbps, limits.WorkStart, limits.WorkEnd, limits.TimeZone);
                row.WorkDays = [.. limits.WorkDays.Select(d => (int)d).Order()];
                row.ChangedAt = clock.GetUtcNow().UtcDateTime;
                row.ChangedBy = user.DisplayName();
            }

            audit.Append(db, user, kind.Action, VaultService.VaultResource(vault.Name), $"{before} → {limits?.Describe(kind.Unlimited) ?? Defaults}");
            await db.SaveChangesAsync(ct);
        });
}
