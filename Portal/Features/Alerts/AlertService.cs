using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Portal.Data;

namespace Portal.Features.Alerts;

/// <summary>
/// Raises and resolves alerts for the rest of the portal (jobs, approvals, the evaluator): one alert per problem key.
/// Raising a key that is active counts one more occurrence; raising it again after it was resolved opens a new alert.
/// Each raise, escalation and resolve writes its emails and webhook calls to the outbox in the same save, and the
/// <see cref="AlertDeliveryWorker"/> sends them: nothing here waits for a mail server.
/// </summary>
public sealed class AlertService(
    IDbContextFactory<PortalDbContext> dbFactory, IOptionsMonitor<AlertOptions> options, AlertNotifier notifier, TimeProvider clock)
{
    /// <summary>The <see cref="Alert.ResolvedBy"/> of alerts whose condition cleared by itself.</summary>
    public const string Automatically = "automatically";

    /// <summary>Raises <paramref name="input"/>: a new alert, or one more occurrence of the active alert with its key.</summary>
    public async Task<Alert> RaiseAsync(AlertInput input, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var alert = await StageRaiseAsync(db, input, ct);
            try
            {
                await db.SaveChangesAsync(ct);
                return alert;
            }
            catch (DbUpdateException e) when (attempt < 5 && IsRace(e))
            {
                // another instance raised or changed the same key at the same moment: read it again and count this occurrence there
            }
        }
    }

    /// <summary>Resolves the active alert with <paramref name="key"/> (if any) automatically; <paramref name="resolution"/> says why.</summary>
    public async Task<bool> ResolveAsync(string key, string resolution, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            if (!await StageResolveAsync(db, key, resolution, ct))
                return false;
            try
            {
                await db.SaveChangesAsync(ct);
                return true;
            }
            catch (DbUpdateException e) when (attempt < 5 && IsRace(e))
            {
            }
        }
    }

    /// <summary>
    /// Adds the raise of <paramref name="input"/> to <paramref name="db"/>'s pending changes, so that it commits with the
    /// caller's own change (an approval, say); the caller saves.
    /// </summary>
    public async Task<Alert> StageRaiseAsync(PortalDbContext db, AlertInput input, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var alert = db.Alerts.Local.FirstOrDefault(a => a.Key == input.Key && a.State == AlertState.Active)
                    ?? await db.Alerts.FirstOrDefaultAsync(a => a.Key == input.Key && a.State == AlertState.Active, ct);
        if (alert is null)
        {
            alert = new Alert { Id = Guid.CreateVersion7(), Key = input.Key, Kind = input.Kind, Severity = input.Severity, FirstRaisedAt = now, Occurrences = 1 };
            Describe(alert, input, now);
            db.Alerts.Add(alert);
            Enqueue(db, alert, AlertEvent.Raised, now);
        }
        else
        {
            var escalated = input.Severity > alert.Severity;
            alert.Severity = input.Severity;
            alert.Occurrences++;
            Describe(alert, input, now);
            if (escalated)
                Enqueue(db, alert, AlertEvent.Escalated, now);
        }

        NotifyOnSave(db);
        return alert;
    }

    /// <summary>Adds the automatic resolve of the active alert with <paramref name="key"/> to <paramref name="db"/>; false when none is active.</summary>
    public async Task<bool> StageResolveAsync(PortalDbContext db, string key, string resolution, CancellationToken ct = default)
    {
        var alert = db.Alerts.Local.FirstOrDefault(a => a.Key == key && a.State == AlertState.Active)
                    ?? await db.Alerts.FirstOrDefaultAsync(a => a.Key == key && a.State == AlertState.Active, ct);
        if (alert is null)
            return false;
        Resolve(db, alert, Automatically, resolution);
        return true;
    }

    /// <summary>Marks <paramref name="alert"/> (tracked by <paramref name="db"/>) resolved by <paramref name="by"/> and queues the notice.</summary>
    internal void Resolve(PortalDbContext db, Alert alert, string by, string resolution)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        alert.State = AlertState.Resolved;
        alert.ResolvedAt = now;
        alert.ResolvedBy = by;
        alert.Resolution = Trim(resolution, 2000);
        Enqueue(db, alert, AlertEvent.Resolved, now);
        NotifyOnSave(db);
    }

    private static void Describe(Alert alert, AlertInput input, DateTime now)
    {
        alert.Kind = input.Kind;
        alert.Title = Trim(input.Title, 300);
        alert.Cause = Trim(input.Cause, 4000);
        alert.NextStep = Trim(input.NextStep, 2000);
        alert.VaultId = input.VaultId ?? alert.VaultId;
        alert.VaultName = input.VaultName ?? alert.VaultName;
        alert.ItemId = input.ItemId ?? alert.ItemId;
        alert.ItemName = input.ItemName ?? alert.ItemName;
        alert.JobId = input.JobId ?? alert.JobId;
        alert.Link = input.Link ?? alert.Link;
        alert.LastRaisedAt = now;
    }

    /// <summary>One outbox row per recipient list and webhook URL of the alert's severity.</summary>
    private void Enqueue(PortalDbContext db, Alert alert, AlertEvent what, DateTime now)
    {
        var settings = options.CurrentValue;
        // Recipients set in the portal win over configuration's (AlertSettingsService). A small read, and only when an
        // alert is raised, escalated or resolved: this runs inside the caller's synchronous staging.
        var stored = db.AlertRecipients.AsNoTracking().FirstOrDefault();
        var recipients = (stored?.Targets ?? settings.Email.Recipients).For(alert.Severity);
        var urls = settings.Webhook.Urls.For(alert.Severity);
        if (recipients.Count == 0 && urls.Count == 0)
            return;
        var payload = AlertNotice.From(alert, what, now, settings.PortalUrl).ToJson();
        AlertDelivery Delivery(AlertChannel channel, string target) => new()
        {
            Id = Guid.CreateVersion7(), AlertId = alert.Id, Event = what, Channel = channel, Target = target, Payload = payload, CreatedAt = now, NextAttemptAt = now,
        };
        if (recipients.Count > 0)
            db.AlertDeliveries.Add(Delivery(AlertChannel.Email, string.Join(", ", recipients)));
        foreach (var url in urls)
            db.AlertDeliveries.Add(Delivery(AlertChannel.Webhook, url));
    }

    private void NotifyOnSave(PortalDbContext db)
    {
        db.SavedChanges -= OnSaved; // once per context, however many alerts it stages
        db.SavedChanges += OnSaved;
    }

    private void OnSaved(object? sender, SavedChangesEventArgs e) => notifier.Notify();

    private static bool IsRace(DbUpdateException e) =>
        e is DbUpdateConcurrencyException || e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    private static string Trim(string text, int max) => text.Length > max ? text[..(max - 1)] + "…" : text;
}

/// <summary>
/// What an email and a webhook say about an alert: the event and the alert as it was then. The webhook body is this
/// object as JSON (camelCase, enums as strings); the README documents it.
/// </summary>
public sealed record AlertNotice(string Event, DateTime At, AlertNoticeAlert Alert)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static AlertNotice From(Alert alert, AlertEvent what, DateTime at, string? portalUrl) => new(
        what.ToString().ToLowerInvariant(), at,
        new AlertNoticeAlert(alert.Id, alert.Key, alert.Kind, alert.Severity, alert.State, alert.Title, alert.Cause, alert.NextStep,
            alert.VaultId, alert.VaultName, alert.ItemId, alert.ItemName, alert.JobId, Absolute(portalUrl, alert.Link ?? "alerts"),
            alert.FirstRaisedAt, alert.LastRaisedAt, alert.Occurrences, alert.ResolvedAt, alert.ResolvedBy, alert.Resolution));

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static AlertNotice FromJson(string json) => JsonSerializer.Deserialize<AlertNotice>(json, Json)
        ?? throw new InvalidOperationException("An alert delivery has an empty payload.");

    private static string Absolute(string? portalUrl, string link) =>
        string.IsNullOrWhiteSpace(portalUrl) ? "/" + link.TrimStart('/') : portalUrl.TrimEnd('/') + "/" + link.TrimStart('/');
}

public sealed record AlertNoticeAlert(
    Guid Id, string Key, string Kind, AlertSeverity Severity, AlertState State, string Title, string Cause, string NextStep,
    Guid? VaultId, string? VaultName, Guid? ItemId, string? ItemName, Guid? JobId, string Link,
    DateTime FirstRaisedAt, DateTime LastRaisedAt, int Occurrences, DateTime? ResolvedAt, string? ResolvedBy, string? Resolution);

/// <summary>
/// Tells this instance that alerts changed: the bell re-counts and the delivery worker looks at the outbox at once.
/// Handlers must be quick and must not throw (they run inside the save that raised the alert).
/// </summary>
public sealed class AlertNotifier
{
    public event Action? Changed;

    public void Notify()
    {
        foreach (var handler in Changed?.GetInvocationList().Cast<Action>() ?? [])
        {
            try
            {
                handler();
            }
            catch
            {
                // a page that went away must never fail the save that raised an alert
            }
        }
    }
}
