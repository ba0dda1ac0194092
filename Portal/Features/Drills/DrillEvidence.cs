using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Common;
using Portal.Features.Identity;

namespace Portal.Features.Drills;

/// <summary>One drill as an auditor reads it: which item and point, when, what was verified, the result, who asked and who configured it.</summary>
public sealed record DrillEvidenceRow(
    string Vault, string Item, string SnapshotId, DateTime PointCreatedAt, DateTime StartedAt, DateTime FinishedAt, DrillResult Result,
    string Verified, double RestoreSeconds, double EstimatedFullRestoreSeconds, double? RtoTargetSeconds, string RequestedBy, string ConfiguredBy, string Detail);

/// <summary>
/// The drill evidence an auditor asks for ("prove you can restore"), newest first: on the printable page
/// (<c>/drills/evidence</c>) and as CSV (<c>/drills/evidence.csv?item=ID&amp;vault=ID</c>). Any portal role may read it.
/// </summary>
public sealed class DrillEvidence(IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser)
{
    public const int MaxRows = 10_000;

    public async Task<IReadOnlyList<DrillEvidenceRow>> ListAsync(Guid? itemId = null, Guid? vaultId = null, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("read drill evidence");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var drills = db.RecoveryDrills.AsNoTracking();
        if (itemId is { } i) drills = drills.Where(d => d.ItemId == i);
        if (vaultId is { } v) drills = drills.Where(d => d.VaultId == v);
        var rows = await drills.OrderByDescending(d => d.FinishedAt).Take(MaxRows)
            .Select(d => new
            {
                d, Item = db.BackupItems.Where(x => x.Id == d.ItemId).Select(x => x.Name).FirstOrDefault(),
                Vault = db.Vaults.Where(x => x.Id == d.VaultId).Select(x => x.Name).FirstOrDefault(),
            }).ToListAsync(ct);
        return [.. rows.Select(r => new DrillEvidenceRow(r.Vault ?? "(deleted vault)", r.Item ?? "(deleted item)", r.d.SnapshotId, r.d.PointCreatedAt,
            r.d.StartedAt, r.d.FinishedAt, r.d.Result, Verified(r.d), r.d.RestoreSeconds, r.d.EstimatedFullRestoreSeconds, r.d.RtoTargetSeconds,
            r.d.RequestedBy, r.d.ConfiguredBy is { Length: > 0 } c ? c : "(no schedule: run on demand)", r.d.Detail))];
    }

    private static string Verified(RecoveryDrill d) =>
        $"{d.FilesVerified:N0} of {d.FilesInPoint:N0} file(s), {Format.Bytes(d.BytesVerified)} of {Format.Bytes(d.BytesInPoint)} ({d.Sample}): " +
        "every chunk's keyed hash and file fingerprint on restore, every file's size and modification time against the point's listing";

}

/// <summary>The drill evidence as CSV: <c>/drills/evidence.csv[?item=ID][&amp;vault=ID]</c>.</summary>
public static class DrillEndpoints
{
    public static IEndpointRouteBuilder MapPortalDrills(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/drills/evidence.csv", async (HttpContext http, DrillEvidence evidence) =>
        {
            ((IHostEnvironmentAuthenticationStateProvider)http.RequestServices.GetRequiredService<AuthenticationStateProvider>())
                .SetAuthenticationState(Task.FromResult(new AuthenticationState(http.User)));
            if (!TryId(http, "item", out var item) || !TryId(http, "vault", out var vault))
                return Results.Problem("The item or vault is not a valid id: open the export from the item page or the reports page.", statusCode: 400);
            try
            {
                var csv = Csv.Write(await evidence.ListAsync(item, vault, http.RequestAborted),
                    ("vault", r => r.Vault), ("item", r => r.Item), ("recovery_point", r => r.SnapshotId), ("point_created_utc", r => r.PointCreatedAt),
                    ("drill_started_utc", r => r.StartedAt), ("drill_finished_utc", r => r.FinishedAt), ("result", r => r.Result.ToString()),
                    ("verified", r => r.Verified), ("restore_seconds", r => Math.Round(r.RestoreSeconds, 1)),
                    ("full_restore_estimate_seconds", r => Math.Round(r.EstimatedFullRestoreSeconds, 1)), ("rto_target_seconds", r => r.RtoTargetSeconds),
                    ("requested_by", r => r.RequestedBy), ("configured_by", r => r.ConfiguredBy), ("detail", r => r.Detail));
                return Results.File(System.Text.Encoding.UTF8.GetBytes(csv), "text/csv; charset=utf-8", "drill-evidence.csv");
            }
            catch (PortalAccessDeniedException e)
            {
                return Results.Problem(e.Message, statusCode: 403);
            }
        }).RequireAuthorization(PortalPolicies.View);
        return endpoints;
    }

    private static bool TryId(HttpContext http, string name, out Guid? id)
    {
        id = null;
        if (http.Request.Query[name].ToString() is not { Length: > 0 } text)
            return true;
        if (!Guid.TryParse(text, out var parsed))
            return false;
        id = parsed;
        return true;
    }
}
