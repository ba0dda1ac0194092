using System.Globalization;
using Microsoft.AspNetCore.Components.Authorization;

namespace Portal.Features.Audit;

/// <summary>The CSV export of the audit log, streamed to the browser.</summary>
public static class AuditEndpoints
{
    public const string ExportPath = "/audit/export.csv";

    public static IEndpointRouteBuilder MapPortalAudit(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(ExportPath, async (HttpContext http, AuditLog audit) =>
        {
            // Outside a circuit the feature services see the request's user through this provider.
            ((IHostEnvironmentAuthenticationStateProvider)http.RequestServices.GetRequiredService<AuthenticationStateProvider>())
                .SetAuthenticationState(Task.FromResult(new AuthenticationState(http.User)));
            var query = FromQueryString(http.Request.Query);
            http.Response.ContentType = "text/csv; charset=utf-8";
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"audit-{DateTime.UtcNow:yyyyMMdd-HHmmss}.csv\"";
            await using var writer = new StreamWriter(http.Response.Body, new System.Text.UTF8Encoding(false));
            await audit.ExportCsvAsync(query, writer, http.RequestAborted);
        }).RequireAuthorization(Identity.PortalPolicies.ReadAudit);
        return endpoints;
    }

    public static IEnumerable<KeyValuePair<string, string?>> ToQueryString(AuditQuery q)
    {
        if (q.FromUtc is { } from)
            yield return new("from", from.ToString("O", CultureInfo.InvariantCulture));
        if (q.ToUtc is { } to)
            yield return new("to", to.ToString("O", CultureInfo.InvariantCulture));
        if (!string.IsNullOrWhiteSpace(q.Actor))
            yield return new("actor", q.Actor);
        if (!string.IsNullOrWhiteSpace(q.Action))
            yield return new("action", q.Action);
        if (q.Outcome is { } outcome)
            yield return new("outcome", outcome.ToString());
    }

    private static AuditQuery FromQueryString(IQueryCollection query) => new(
        Date(query["from"]), Date(query["to"]), query["actor"], query["action"],
        Enum.TryParse<AuditOutcome>(query["outcome"], out var o) ? o : null);

    private static DateTime? Date(string? text) =>
        DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d) ? d : null;
}
