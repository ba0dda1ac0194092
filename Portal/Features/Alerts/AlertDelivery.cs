namespace Portal.Features.Alerts;

/// <summary>
/// One email or webhook call to make about an alert (the outbox): written in the same save as the alert change,
/// sent later by <see cref="AlertDeliveryWorker"/> with retries, so a slow or broken mail server never touches the job
/// that raised the alert. <see cref="Payload"/> is the alert as it was at the event, as JSON.
/// </summary>
public sealed class AlertDelivery
{
    public Guid Id { get; set; }
    public Guid AlertId { get; set; }
    public AlertEvent Event { get; set; }
    public AlertChannel Channel { get; set; }

    /// <summary>The recipients (comma-separated) of an email, or the URL of a webhook.</summary>
    public string Target { get; set; } = "";

    public string Payload { get; set; } = "";
    public AlertDeliveryState State { get; set; } = AlertDeliveryState.Pending;
    public int Attempts { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime NextAttemptAt { get; set; }
    public DateTime? SentAt { get; set; }

    /// <summary>Why the last attempt failed, in words (never a secret).</summary>
    public string? LastError { get; set; }
}

/// <summary>Why an alert is delivered: once when raised, when its severity rises, once when resolved.</summary>
public enum AlertEvent
{
    Raised,
    Escalated,
    Resolved,
}

public enum AlertChannel
{
    Email,
    Webhook,
}

public enum AlertDeliveryState
{
    /// <summary>Waiting for its (next) attempt.</summary>
    Pending,
    Sent,

    /// <summary>Gave up after <see cref="AlertDeliveryOptions.MaxAttempts"/>; shown on the Alerts page.</summary>
    Failed,
}
