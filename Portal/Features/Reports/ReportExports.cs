using System.Globalization;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Features.Common;

namespace Portal.Features.Reports;

/// <summary>CSV downloads of the reports: <c>/reports/{report}.csv?from=yyyy-MM-dd&amp;to=yyyy-MM-dd[&amp;vault=ID]</c>.</summary>
public static class ReportExports
{
    public static readonly IReadOnlyList<string> Names = ["jobs", "transfer", "storage", "item-storage", "policies", "compliance"];

    public static string Href(string report, ReportRange range, Guid? vaultId) =>
        $"/reports/{report}.csv?from={range.From:yyyy-MM-dd}&to={range.To:yyyy-MM-dd}" + (vaultId is { } v ? $"&vault={v}" : "");

    public static IEndpointRouteBuilder MapPortalReports(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/reports/{report}.csv", async (string report, HttpContext http, ReportService reports, ComplianceReport compliance) =>
        {
            ((IHostEnvironmentAuthenticationStateProvider)http.RequestServices.GetRequiredService<AuthenticationStateProvider>())
                .SetAuthenticationState(Task.FromResult(new AuthenticationState(http.User)));
            if (!Names.Contains(report))
                return Results.Problem($"There is no report '{report}'. Reports: {string.Join(", ", Names)}.", statusCode: 404);
            var range = reports.DefaultRange();
            if (!TryDay(http.Request.Query["from"], range.From, out var from) || !TryDay(http.Request.Query["to"], range.To, out var to))
                return Results.Problem("Give the dates as yyyy-MM-dd, for example from=2026-11-01&to=2026-11-25.", statusCode: 400);
            Guid? vault = null;
            if (http.Request.Query["vault"].ToString() is { Length: > 0 } v)
            {
                if (!Guid.TryParse(v, out var id))
                    return Results.Problem("The vault is not a valid id: choose the vault on the reports page.", statusCode: 400);
                vault = id;
            }

            range = new ReportRange(from, to);
            try
            {
                var csv = report == "compliance" ? await WriteComplianceAsync(compliance, vault, http.RequestAborted) : await WriteAsync(reports, report, range, vault, http.RequestAborted);
                return Results.File(System.Text.Encoding.UTF8.GetBytes(csv), "text/csv; charset=utf-8", $"{report}-{from:yyyy-MM-dd}-to-{to:yyyy-MM-dd}.csv");
            }
            catch (PortalAccessDeniedException e)
            {
                return Results.Problem(e.Message, statusCode: 403);
            }
            catch (PortalValidationException e)
            {
                return Results.Problem(e.Message, statusCode: 400);
            }
        }).RequireAuthorization(Identity.PortalPolicies.View);
        return endpoints;
    }

    public static async Task<string> WriteAsync(ReportService reports, string report, ReportRange range, Guid? vault, CancellationToken ct) => report switch
    {
        "jobs" => Csv.Write(await reports.JobsPerDayAsync(range, vault, ct),
            ("day", r => r.Day), ("kind", r => r.Kind.ToString()), ("total", r => r.Total), ("completed", r => r.Completed),
            ("completed_with_warnings", r => r.CompletedWithWarnings), ("failed", r => r.Failed), ("cancelled", r => r.Cancelled),
            ("running", r => r.Running), ("success_rate", r => r.SuccessRate)),
        "transfer" => Csv.Write(await reports.TransferPerDayAsync(range, vault, ct),
            ("day", r => r.Day), ("backed_up_bytes", r => r.BackedUpBytes), ("added_to_vault_bytes", r => r.AddedToVaultBytes),
            ("restored_bytes", r => r.RestoredBytes)),
        "storage" => Csv.Write(await reports.StoragePerDayAsync(range, vault, ct),
            ("day", r => r.Day), ("vault", r => r.Vault), ("region", r => r.Region), ("bytes", r => r.Bytes)),
        "item-storage" => Csv.Write(await reports.ItemStoragePerDayAsync(range, vault, ct),
            ("day", r => r.Day), ("vault", r => r.Vault), ("item", r => r.Item), ("recovery_points", r => r.RecoveryPoints),
            ("protected_bytes", r => r.ProtectedBytes), ("added_bytes", r => r.AddedBytes)),
        "policies" => Csv.Write(await reports.ItemsByPolicyAsync(vault, ct),
            ("vault", r => r.Vault), ("policy", r => r.Policy), ("protected", r => r.Protected),
            ("protection_stopped", r => r.ProtectionStopped), ("soft_deleted", r => r.SoftDeleted), ("not_backed_up_yet", r => r.NotBackedUpYet)),
        _ => throw new ArgumentOutOfRangeException(nameof(report)),
    };

    /// <summary>RPO and RTO compliance per protected item, now (the range does not apply).</summary>
    public static async Task<string> WriteComplianceAsync(ComplianceReport compliance, Guid? vault, CancellationToken ct) =>
        Csv.Write((await compliance.SummarizeAsync(vault, rpoHistory: true, ct)).Items,
            ("vault", r => r.Vault), ("item", r => r.Item), ("rpo_now_hours", r => r.RpoNow?.TotalHours), ("rpo_target_hours", r => r.RpoTarget?.TotalHours),
            ("rpo_met", r => r.RpoMet), ("rpo_compliance_30_days", r => r.RpoCompliance30Days), ("drill_status", r => r.DrillStatus),
            ("proven_point", r => r.ProvenSnapshotId?[..8]), ("proven_at", r => r.ProvenAt), ("full_restore_estimate_minutes", r => r.EstimatedFullRestore?.TotalMinutes),
            ("rto_target_minutes", r => r.RtoTarget?.TotalMinutes), ("rto_met", r => r.RtoMet));

    private static bool TryDay(string? text, DateOnly fallback, out DateOnly day)
    {
        day = fallback;
        return string.IsNullOrEmpty(text) || DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
    }
}
