using System.Net.Mail;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;

namespace Portal.Features.Alerts;

/// <summary>The alert email recipients in effect: set in the portal, or taken from configuration until someone does.</summary>
public sealed record AlertRecipientsView(SeverityTargets Recipients, bool SetInPortal, DateTime? UpdatedAt, string? UpdatedBy, uint Version, bool MailConfigured);

/// <summary>
/// Alert email recipients set in the portal (Backup.Contributor, audited), stored in the database and used by the alert
/// mailer for every alert raised, escalated or resolved after the change. Configuration (<c>Alerts:Email:Recipients</c>)
/// is the default until the first save.
/// </summary>
public sealed class AlertSettingsService(
    IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, AuditLog audit, IOptionsMonitor<AlertOptions> options, TimeProvider clock)
{
    /// <summary>The most addresses one severity may list.</summary>
    public const int MaxPerSeverity = 50;

    public async Task<AlertRecipientsView> GetRecipientsAsync(CancellationToken ct = default)
    {
        await currentUser.RequireAnyRoleAsync("see who receives alert emails", PortalRoles.Contributor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var stored = await db.AlertRecipients.AsNoTracking().FirstOrDefaultAsync(ct);
        var mail = !string.IsNullOrWhiteSpace(options.CurrentValue.Email.Smtp.Host) && !string.IsNullOrWhiteSpace(options.CurrentValue.Email.From);
        return stored is null
            ? new AlertRecipientsView(options.CurrentValue.Email.Recipients, false, null, null, 0, mail)
            : new AlertRecipientsView(stored.Targets, true, stored.UpdatedAt, stored.UpdatedBy, stored.Version, mail);
    }

    /// <summary>
    /// Saves the recipients of each severity (addresses separated by commas, semicolons or lines). <paramref name="version"/>
    /// is the one read (0 when none was stored): a change made meanwhile by someone else is refused, not overwritten.
    /// </summary>
    public Task SaveRecipientsAsync(string? critical, string? warning, string? information, uint version, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.AlertRecipients, "alerts/recipients", async user =>
        {
            Access.Require(user, "choose who receives alert emails", PortalRoles.Contributor);
            var errors = new Dictionary<string, string>();
            var lists = new Dictionary<string, List<string>>
            {
                ["Critical"] = Parse("Critical", critical, errors), ["Warning"] = Parse("Warning", warning, errors), ["Information"] = Parse("Information", information, errors),
            };
            var mail = options.CurrentValue.Email;
            if (errors.Count == 0 && lists.Values.Any(l => l.Count > 0) && (string.IsNullOrWhiteSpace(mail.Smtp.Host) || string.IsNullOrWhiteSpace(mail.From)))
                errors["Critical"] = "This portal cannot send email yet: an administrator sets the SMTP server and sender (Alerts:Email:Smtp:Host and Alerts:Email:From) first.";
            if (errors.Count > 0)
                throw new PortalValidationException(errors);

            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var row = await db.AlertRecipients.FirstOrDefaultAsync(ct);
            if ((row?.Version ?? 0) != version)
                throw new PortalConflictException($"{row?.UpdatedBy ?? "Someone"} changed the recipients meanwhile: reload the page to see their change, then make yours.");
            if (row is null)
            {
                row = new AlertRecipientSettings();
                db.AlertRecipients.Add(row);
            }

            (row.Critical, row.Warning, row.Information) = (lists["Critical"], lists["Warning"], lists["Information"]);
            row.UpdatedAt = clock.GetUtcNow().UtcDateTime;
            row.UpdatedBy = user.DisplayName();
            audit.Append(db, user, AuditActions.AlertRecipients, "alerts/recipients",
                string.Join("; ", lists.Select(l => $"{l.Key.ToLowerInvariant()}: {(l.Value.Count == 0 ? "nobody" : string.Join(", ", l.Value))}")));
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                throw new PortalConflictException("Someone changed the recipients at the same moment: reload the page to see their change, then make yours.");
            }
        });

    private static List<string> Parse(string field, string? text, Dictionary<string, string> errors)
    {
        var addresses = (text ?? "").Split([',', ';', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (addresses.Count > MaxPerSeverity)
            errors[field] = $"At most {MaxPerSeverity} addresses per severity: mail a group address instead.";
        else if (addresses.FirstOrDefault(a => a.Length > 254 || !MailAddress.TryCreate(a, out var parsed) || parsed.Address != a) is { } bad)
            errors[field] = $"\"{(bad.Length > 60 ? bad[..60] + "…" : bad)}\" is not an email address such as ops@example.com.";
        return addresses;
    }
}
