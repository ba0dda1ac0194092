using Portal.Features.Common;
using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Identity;

namespace Portal.Features.Alerts;

/// <summary>Which alerts to list.</summary>
public sealed record AlertQuery(AlertState? State = AlertState.Active, AlertSeverity? Severity = null, string? Kind = null, Guid? VaultId = null, int PageIndex = 0, int PageSize = 25);

/// <summary>Active alerts by severity, for the bell.</summary>
public sealed record AlertCounts(int Critical, int Warning, int Information)
{
    public int Total => Critical + Warning + Information;
}

/// <summary>An alert as the Alerts page lists it, with how its emails and webhook calls went.</summary>
public sealed record AlertRow(Alert Alert, int DeliveriesPending, int DeliveriesFailed, string? LastDeliveryError)
{
    /// <summary>The deliveries that gave up, to send again.</summary>
    public IReadOnlyList<Guid> FailedDeliveryIds { get; init; } = [];
}

/// <summary>
/// Alerts as the signed-in user sees them: every portal role may read them; acknowledging and resolving need
/// Backup.Operator or Backup.Contributor (checked here, whatever the page shows).
/// </summary>
public sealed class AlertQueries(
    IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, AlertService alerts, AlertNotifier notifier, AuditLog audit, TimeProvider clock)
{
    public const string AcknowledgeAction = "Alert.Acknowledge";
    public const string ResolveAction = "Alert.Resolve";
    public const string RetryAction = "Alert.RetryDelivery";

    private static readonly string[] Responders = [PortalRoles.Contributor, PortalRoles.Operator];

    public async Task<AlertCounts> CountActiveAsync(CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view alerts");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await CountActiveAsync(db, ct);
    }

    /// <summary>Active alerts by severity in <paramref name="db"/>, for callers that already checked the viewer (the Backup center).</summary>
    internal static async Task<AlertCounts> CountActiveAsync(PortalDbContext db, CancellationToken ct)
    {
        var counts = await db.Alerts.AsNoTracking().Where(a => a.State == AlertState.Active)
            .GroupBy(a => a.Severity).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        return new AlertCounts(counts.GetValueOrDefault(AlertSeverity.Critical), counts.GetValueOrDefault(AlertSeverity.Warning), counts.GetValueOrDefault(AlertSeverity.Information));
    }

    /// <summary>Newest first (by last occurrence), critical before warning on the same moment.</summary>
    public async Task<PagedResult<AlertRow>> ListAsync(AlertQuery query, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view alerts");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var list = db.Alerts.AsNoTracking();
        if (query.State is { } state) list = list.Where(a => a.State == state);
        if (query.Severity is { } severity) list = list.Where(a => a.Severity == severity);
        if (!string.IsNullOrEmpty(query.Kind)) list = list.Where(a => a.Kind == query.Kind);
        if (query.VaultId is { } vault) list = list.Where(a => a.VaultId == vault);
        var total = await list.CountAsync(ct);
        var size = Math.Clamp(query.PageSize, 1, 200);
        var page = await list.OrderByDescending(a => a.LastRaisedAt).ThenByDescending(a => a.Id)
            .Skip(Math.Max(0, query.PageIndex) * size).Take(size).ToListAsync(ct);
        var ids = page.Select(a => a.Id).ToList();
        var deliveries = await db.AlertDeliveries.AsNoTracking().Where(d => ids.Contains(d.AlertId) && d.State != AlertDeliveryState.Sent)
            .Select(d => new { d.Id, d.AlertId, d.State, d.LastError, d.CreatedAt }).ToListAsync(ct);
        return new PagedResult<AlertRow>([.. page.Select(a =>
        {
            var mine = deliveries.Where(d => d.AlertId == a.Id).OrderByDescending(d => d.CreatedAt).ToList();
            return new AlertRow(a, mine.Count(d => d.State == AlertDeliveryState.Pending), mine.Count(d => d.State == AlertDeliveryState.Failed),
                mine.FirstOrDefault(d => d.LastError is not null)?.LastError)
            {
                FailedDeliveryIds = [.. mine.Where(d => d.State == AlertDeliveryState.Failed).Select(d => d.Id)],
            };
        })], total);
    }

    public async Task<Alert?> GetAsync(Guid id, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view alerts");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Alerts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
    }

    /// <summary>The emails and webhook calls of one alert, newest first.</summary>
    public async Task<IReadOnlyList<AlertDelivery>> DeliveriesAsync(Guid alertId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view alerts");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.AlertDeliveries.AsNoTracking().Where(d => d.AlertId == alertId).OrderByDescending(d => d.CreatedAt).ToListAsync(ct);
    }

    /// <summary>How many emails and webhook calls gave up (shown on the Alerts page).</summary>
    public async Task<int> CountFailedDeliveriesAsync(CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view alerts");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.AlertDeliveries.CountAsync(d => d.State == AlertDeliveryState.Failed, ct);
    }

    /// <summary>Says "I am on it": the alert stays active (and counted) until its condition clears or someone resolves it.</summary>
    public Task AcknowledgeAsync(Guid id, CancellationToken ct = default) =>
        audit.GuardAsync(AcknowledgeAction, $"alert/{id}", async user =>
        {
            Access.Require(user, "acknowledge alerts", Responders);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var alert = await LoadAsync(db, id, ct);
            if (alert.State == AlertState.Resolved)
                throw new PortalConflictException($"This alert was already resolved by {alert.ResolvedBy} at {alert.ResolvedAt:yyyy-MM-dd HH:mm} UTC.");
            if (alert.AcknowledgedAt is not null)
                throw new PortalConflictException($"{alert.AcknowledgedBy} already acknowledged this alert at {alert.AcknowledgedAt:yyyy-MM-dd HH:mm} UTC.");
            alert.AcknowledgedAt = clock.GetUtcNow().UtcDateTime;
            alert.AcknowledgedBy = user.DisplayName();
            audit.Append(db, user, AcknowledgeAction, $"alert/{id}", alert.Title);
            await SaveAsync(db, ct);
            notifier.Notify(); // other pages show who is on it
        });

    /// <summary>Closes an alert by hand (e.g. a one-off event handled); if the problem happens again, a new alert is raised.</summary>
    public Task ResolveAsync(Guid id, CancellationToken ct = default) =>
        audit.GuardAsync(ResolveAction, $"alert/{id}", async user =>
        {
            Access.Require(user, "resolve alerts", Responders);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var alert = await LoadAsync(db, id, ct);
            if (alert.State == AlertState.Resolved)
                throw new PortalConflictException($"This alert was already resolved by {alert.ResolvedBy} at {alert.ResolvedAt:yyyy-MM-dd HH:mm} UTC.");
            alerts.Resolve(db, alert, user.DisplayName(), $"Resolved by {user.DisplayName()}.");
            audit.Append(db, user, ResolveAction, $"alert/{id}", alert.Title);
            await SaveAsync(db, ct);
        });

    /// <summary>Sends a failed email or webhook call again (after the mail server or the URL was fixed).</summary>
    public Task RetryDeliveryAsync(Guid deliveryId, CancellationToken ct = default) =>
        audit.GuardAsync(RetryAction, $"alert-delivery/{deliveryId}", async user =>
        {
            Access.Require(user, "send alerts again", Responders);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var delivery = await db.AlertDeliveries.FirstOrDefaultAsync(d => d.Id == deliveryId, ct)
                ?? throw new PortalNotFoundException("This delivery does not exist.");
            if (delivery.State != AlertDeliveryState.Failed)
                throw new PortalConflictException("Only a delivery that gave up can be sent again; this one is " + delivery.State.ToString().ToLowerInvariant() + ".");
            delivery.State = AlertDeliveryState.Pending;
            delivery.Attempts = 0;
            delivery.NextAttemptAt = clock.GetUtcNow().UtcDateTime;
            audit.Append(db, user, RetryAction, $"alert-delivery/{deliveryId}", $"{delivery.Channel} to {(delivery.Channel == AlertChannel.Webhook ? AlertWebhookSender.Redact(delivery.Target) : delivery.Target)}");
            await db.SaveChangesAsync(ct);
            notifier.Notify(); // wakes the delivery worker at once
        });

    private static async Task<Alert> LoadAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Alerts.FirstOrDefaultAsync(a => a.Id == id, ct) ?? throw new PortalNotFoundException("This alert does not exist.");

    private static Task SaveAsync(PortalDbContext db, CancellationToken ct) =>
        db.SaveOrExplainAsync(() => Task.FromResult<Exception>(new PortalConflictException(
            "The alert changed at the same moment (it happened again, or someone else acted on it). Reload to see where it stands.")), ct);
}
