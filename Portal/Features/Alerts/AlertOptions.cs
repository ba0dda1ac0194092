using System.Net.Mail;
using Microsoft.Extensions.Options;

namespace Portal.Features.Alerts;

/// <summary>The <c>Alerts</c> section: when conditions are evaluated, and where alerts are sent by email and webhook.</summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    /// <summary>The portal's public address (e.g. https://backup.example.com): makes the links in emails and webhooks absolute.</summary>
    public string? PortalUrl { get; set; }

    /// <summary>How often RPO, replication lag and other conditions are checked (default 5 minutes).</summary>
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A GRS vault whose oldest recovery point not yet in the paired region is older than this raises an alert (default 1 hour).</summary>
    public TimeSpan ReplicationLagThreshold { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Resolved alerts (and their deliveries) older than this are removed (default 90 days).</summary>
    public TimeSpan KeepResolved { get; set; } = TimeSpan.FromDays(90);

    public AlertEmailOptions Email { get; set; } = new();
    public AlertWebhookOptions Webhook { get; set; } = new();
    public AlertDeliveryOptions Delivery { get; set; } = new();
}

/// <summary>Who receives what, per severity (a list each).</summary>
public sealed class SeverityTargets
{
    public List<string> Critical { get; set; } = [];
    public List<string> Warning { get; set; } = [];
    public List<string> Information { get; set; } = [];

    public IReadOnlyList<string> For(AlertSeverity severity) => severity switch
    {
        AlertSeverity.Critical => Critical,
        AlertSeverity.Warning => Warning,
        _ => Information,
    };

    public bool Any => Critical.Count + Warning.Count + Information.Count > 0;

    internal IEnumerable<(string Where, string Value)> Each(string section) =>
        Critical.Select((v, i) => ($"{section}:Critical:{i}", v))
            .Concat(Warning.Select((v, i) => ($"{section}:Warning:{i}", v)))
            .Concat(Information.Select((v, i) => ($"{section}:Information:{i}", v)));
}

public sealed class AlertEmailOptions
{
    /// <summary>The sender, e.g. <c>Backup portal &lt;backup@example.com&gt;</c>.</summary>
    public string? From { get; set; }

    public SmtpOptions Smtp { get; set; } = new();
    public SeverityTargets Recipients { get; set; } = new();
}

public sealed class SmtpOptions
{
    public string? Host { get; set; }
    public int Port { get; set; } = 587;

    /// <summary>TLS: implicit on port 465, STARTTLS otherwise. Off only for a relay on the same machine or in tests.</summary>
    public bool UseTls { get; set; } = true;

    public string? User { get; set; }

    /// <summary>A file holding the SMTP password (e.g. a container secret): the password itself is never in configuration.</summary>
    public string? PasswordFile { get; set; }
}

public sealed class AlertWebhookOptions
{
    /// <summary>The URLs to POST each severity's alerts to.</summary>
    public SeverityTargets Urls { get; set; } = new();

    /// <summary>A file holding the shared secret: the body is signed with HMAC-SHA256 in <c>X-Portal-Signature</c>.</summary>
    public string? SecretFile { get; set; }
}

public sealed class AlertDeliveryOptions
{
    /// <summary>Attempts before a delivery is marked failed (default 8: about 2 hours of backing off).</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Wait after the first failed attempt; doubled after each further failure, at most an hour (default 30 s).</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the outbox is looked at when nothing new was raised on this instance (default 15 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long one email or webhook call may take (default 30 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Checks the alert configuration at start, naming each mistake and how to fix it.</summary>
internal sealed class AlertOptionsValidator : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        var errors = new List<string>();
        if (options.PortalUrl is { Length: > 0 } portal && !IsHttpUrl(portal))
            errors.Add($"Alerts:PortalUrl (\"{portal}\") is not an http(s) address such as https://backup.example.com.");
        if (options.EvaluationInterval < TimeSpan.FromSeconds(1) || options.EvaluationInterval > TimeSpan.FromDays(1))
            errors.Add("Alerts:EvaluationInterval must be between 1 second and 1 day (e.g. \"00:05:00\").");
        if (options.ReplicationLagThreshold < TimeSpan.FromMinutes(1))
            errors.Add("Alerts:ReplicationLagThreshold must be at least one minute (e.g. \"01:00:00\").");
        if (options.KeepResolved < TimeSpan.FromDays(1))
            errors.Add("Alerts:KeepResolved must be at least one day (e.g. \"90.00:00:00\").");
        ValidateEmail(options.Email, errors);
        ValidateWebhook(options.Webhook, errors);
        var delivery = options.Delivery;
        if (delivery.MaxAttempts is < 1 or > 100)
            errors.Add("Alerts:Delivery:MaxAttempts must be between 1 and 100.");
        if (delivery.FirstRetryDelay < TimeSpan.Zero || delivery.PollInterval < TimeSpan.FromMilliseconds(100) || delivery.Timeout < TimeSpan.FromSeconds(1))
            errors.Add("Alerts:Delivery: FirstRetryDelay must not be negative, PollInterval at least 100 ms and Timeout at least 1 second.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateEmail(AlertEmailOptions email, List<string> errors)
    {
        foreach (var (where, address) in email.Recipients.Each("Alerts:Email:Recipients"))
            if (!MailAddress.TryCreate(address, out _))
                errors.Add($"{where} (\"{address}\") is not an email address such as ops@example.com.");
        if (!email.Recipients.Any)
            return; // email is off: the rest is not needed
        var smtp = email.Smtp;
        if (string.IsNullOrWhiteSpace(smtp.Host))
            errors.Add("Alerts:Email:Smtp:Host is empty, but Alerts:Email:Recipients lists people to mail: give the SMTP server, e.g. smtp.example.com.");
        if (smtp.Port is < 1 or > 65535)
            errors.Add($"Alerts:Email:Smtp:Port ({smtp.Port}) must be between 1 and 65535 (587 for STARTTLS, 465 for TLS).");
        if (string.IsNullOrWhiteSpace(email.From) || !MailAddress.TryCreate(email.From, out _))
            errors.Add($"Alerts:Email:From (\"{email.From}\") is not a sender address such as \"Backup portal <backup@example.com>\".");
        if (!string.IsNullOrEmpty(smtp.PasswordFile) && string.IsNullOrWhiteSpace(smtp.User))
            errors.Add("Alerts:Email:Smtp:PasswordFile is set without Alerts:Email:Smtp:User: give the user the password belongs to.");
        if (!string.IsNullOrEmpty(smtp.PasswordFile) && !File.Exists(smtp.PasswordFile))
            errors.Add($"Alerts:Email:Smtp:PasswordFile ({smtp.PasswordFile}) does not exist or cannot be read: put the SMTP password in that file.");
        if (!string.IsNullOrWhiteSpace(smtp.User) && string.IsNullOrEmpty(smtp.PasswordFile))
            errors.Add("Alerts:Email:Smtp:User is set without Alerts:Email:Smtp:PasswordFile: put the password in a file and name it there (never the password itself).");
    }

    private static void ValidateWebhook(AlertWebhookOptions webhook, List<string> errors)
    {
        foreach (var (where, url) in webhook.Urls.Each("Alerts:Webhook:Urls"))
            if (!IsHttpUrl(url))
                errors.Add($"{where} (\"{url}\") is not an http(s) address such as https://hooks.example.com/backup.");
        if (!string.IsNullOrEmpty(webhook.SecretFile) && !File.Exists(webhook.SecretFile))
            errors.Add($"Alerts:Webhook:SecretFile ({webhook.SecretFile}) does not exist or cannot be read: put the shared secret in that file.");
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
