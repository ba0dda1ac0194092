using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;

namespace Portal.Features.Alerts;

/// <summary>
/// Sends the outbox: each pending delivery whose time has come, one at a time, locked with <c>FOR UPDATE SKIP LOCKED</c>
/// so that several portal instances never send the same one twice. A failed attempt waits
/// <see cref="AlertDeliveryOptions.FirstRetryDelay"/>, doubling up to an hour; after
/// <see cref="AlertDeliveryOptions.MaxAttempts"/> it is marked failed with the reason, which the Alerts page shows.
/// </summary>
public sealed class AlertDeliveryWorker(
    IDbContextFactory<PortalDbContext> dbFactory,
    AlertEmailSender email,
    AlertWebhookSender webhook,
    AlertNotifier notifier,
    IOptionsMonitor<AlertOptions> options,
    TimeProvider clock,
    ILogger<AlertDeliveryWorker> logger) : BackgroundService
{
    private TaskCompletionSource signal = NewSignal();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        notifier.Changed += Wake;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var current = Volatile.Read(ref signal); // taken before sending: a raise during the pass wakes the next one at once
                try
                {
                    await DeliverDueAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Alert deliveries could not be read; trying again shortly");
                }

                using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var tick = Task.Delay(options.CurrentValue.Delivery.PollInterval, clock, waiting.Token);
                await Task.WhenAny(current.Task, tick);
                await waiting.CancelAsync();
                Interlocked.CompareExchange(ref signal, NewSignal(), current);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            notifier.Changed -= Wake;
        }
    }

    private void Wake() => Volatile.Read(ref signal).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Sends every delivery that is due now; returns how many were attempted.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken ct)
    {
        var attempted = 0;
        while (await DeliverOneAsync(ct))
            attempted++;
        return attempted;
    }

    private async Task<bool> DeliverOneAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var delivery = await db.AlertDeliveries
            .FromSql($"""SELECT * FROM alert_deliveries WHERE "State" = 'Pending' AND "NextAttemptAt" <= {now} ORDER BY "NextAttemptAt" LIMIT 1 FOR UPDATE SKIP LOCKED""")
            .FirstOrDefaultAsync(ct);
        if (delivery is null)
            return false;

        var settings = options.CurrentValue;
        delivery.Attempts++;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(settings.Delivery.Timeout);
            var notice = AlertNotice.FromJson(delivery.Payload);
            if (delivery.Channel == AlertChannel.Email)
                await email.SendAsync(delivery.Target, notice, timeout.Token);
            else
                await webhook.SendAsync(delivery.Id, delivery.Target, delivery.Payload, notice.Event, timeout.Token);
            delivery.State = AlertDeliveryState.Sent;
            delivery.SentAt = clock.GetUtcNow().UtcDateTime;
            delivery.LastError = null;
        }
        catch (Exception e) when (!ct.IsCancellationRequested && Explain(e) is { } reason)
        {
            delivery.LastError = reason.Length > 2000 ? reason[..1999] + "…" : reason;
            if (delivery.Attempts >= settings.Delivery.MaxAttempts)
            {
                delivery.State = AlertDeliveryState.Failed;
                logger.LogError("Alert {Alert}: {Channel} to {Target} failed {Attempts} times, giving up: {Reason}",
                    delivery.AlertId, delivery.Channel, Shown(delivery), delivery.Attempts, reason);
            }
            else
            {
                var delay = TimeSpan.FromTicks(Math.Min(TimeSpan.FromHours(1).Ticks,
                    settings.Delivery.FirstRetryDelay.Ticks * (long)Math.Pow(2, Math.Min(delivery.Attempts - 1, 20))));
                delivery.NextAttemptAt = clock.GetUtcNow().UtcDateTime + delay;
                logger.LogWarning("Alert {Alert}: {Channel} to {Target} failed (attempt {Attempts}), retrying in {Delay}: {Reason}",
                    delivery.AlertId, delivery.Channel, Shown(delivery), delivery.Attempts, delay, reason);
            }
        }

        await db.SaveChangesAsync(CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
        if (delivery.State == AlertDeliveryState.Failed)
            notifier.Notify();
        return true;
    }

    private static string Shown(AlertDelivery delivery) =>
        delivery.Channel == AlertChannel.Webhook ? AlertWebhookSender.Redact(delivery.Target) : delivery.Target;

    /// <summary>The reason of a failed attempt in words, without secrets (MailKit and HttpClient messages carry none).</summary>
    private static string? Explain(Exception e) => e switch
    {
        OperationCanceledException => "The server did not answer in time.",
        AuthenticationException => $"The SMTP server refused the user name or password ({e.Message}). Check Alerts:Email:Smtp:User and the password file.",
        SmtpCommandException smtp => $"The SMTP server refused the message: {smtp.Message} (status {(int)smtp.StatusCode}).",
        SmtpProtocolException or ServiceNotConnectedException or SslHandshakeException => $"SMTP failed: {e.Message}",
        System.Net.Sockets.SocketException => $"Could not connect: {e.Message}",
        HttpRequestException => $"The webhook call failed: {e.Message}",
        IOException => $"The connection failed: {e.Message}",
        FormatException or ParseException or System.Text.Json.JsonException => $"The alert could not be turned into a message: {e.Message}",
        UnauthorizedAccessException => $"A secret file could not be read: {e.Message}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };
}
