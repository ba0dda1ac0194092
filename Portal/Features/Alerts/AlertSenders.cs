using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Portal.Features.Alerts;

/// <summary>Sends one alert email through SMTP (MailKit). The password is read from its file when sending and never logged.</summary>
public sealed class AlertEmailSender(IOptionsMonitor<AlertOptions> options)
{
    public async Task SendAsync(string recipients, AlertNotice notice, CancellationToken ct)
    {
        var settings = options.CurrentValue;
        var smtp = settings.Email.Smtp;
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(settings.Email.From ?? throw new InvalidOperationException("Alerts:Email:From is not set.")));
        foreach (var to in recipients.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            message.To.Add(MailboxAddress.Parse(to));
        message.Subject = Subject(notice);
        message.Body = new TextPart("plain") { Text = Body(notice) };

        using var client = new SmtpClient();
        var security = !smtp.UseTls ? SecureSocketOptions.None : smtp.Port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls;
        await client.ConnectAsync(smtp.Host ?? throw new InvalidOperationException("Alerts:Email:Smtp:Host is not set."), smtp.Port, security, ct);
        if (!string.IsNullOrWhiteSpace(smtp.User))
            await client.AuthenticateAsync(smtp.User, (await File.ReadAllTextAsync(smtp.PasswordFile!, ct)).Trim(), ct);
        await client.SendAsync(message, ct);
        await client.DisconnectAsync(true, ct);
    }

    public static string Subject(AlertNotice notice) => notice.Event switch
    {
        "resolved" => $"[Resolved] {notice.Alert.Title}",
        "escalated" => $"[{notice.Alert.Severity}, escalated] {notice.Alert.Title}",
        _ => $"[{notice.Alert.Severity}] {notice.Alert.Title}",
    };

    /// <summary>The plain-text body: what happened, what to do, where, and the link.</summary>
    public static string Body(AlertNotice notice)
    {
        var a = notice.Alert;
        var text = new StringBuilder();
        text.AppendLine(a.Title).AppendLine();
        if (notice.Event == "resolved")
            text.AppendLine($"Resolved {a.ResolvedAt:yyyy-MM-dd HH:mm} UTC by {a.ResolvedBy}: {a.Resolution}").AppendLine();
        text.AppendLine("What happened:").AppendLine(a.Cause).AppendLine();
        if (notice.Event != "resolved")
            text.AppendLine("Next step:").AppendLine(a.NextStep).AppendLine();
        text.AppendLine($"Severity: {a.Severity}");
        if (a.VaultName is not null) text.AppendLine($"Vault: {a.VaultName}");
        if (a.ItemName is not null) text.AppendLine($"Backup item: {a.ItemName}");
        if (a.JobId is not null) text.AppendLine($"Job: {a.JobId}");
        text.AppendLine($"First raised: {a.FirstRaisedAt:yyyy-MM-dd HH:mm} UTC; last: {a.LastRaisedAt:yyyy-MM-dd HH:mm} UTC; occurrences: {a.Occurrences}");
        text.AppendLine($"In the portal: {a.Link}");
        return text.ToString();
    }
}

/// <summary>POSTs one alert notice as JSON to a webhook, signed with HMAC-SHA256 when a shared secret is configured.</summary>
public sealed class AlertWebhookSender(IHttpClientFactory httpFactory, IOptionsMonitor<AlertOptions> options)
{
    public const string SignatureHeader = "X-Portal-Signature";
    public const string EventHeader = "X-Portal-Event";
    public const string DeliveryHeader = "X-Portal-Delivery";
    public const string HttpClientName = "alerts-webhook";

    public async Task SendAsync(Guid deliveryId, string url, string payload, string what, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(EventHeader, what);
        request.Headers.Add(DeliveryHeader, deliveryId.ToString());
        if (options.CurrentValue.Webhook.SecretFile is { Length: > 0 } secretFile)
            request.Headers.Add(SignatureHeader, Sign((await File.ReadAllTextAsync(secretFile, ct)).Trim(), body));
        using var response = await httpFactory.CreateClient(HttpClientName).SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{Redact(url)} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
    }

    /// <summary>A webhook URL as logs and pages show it: scheme, host and port only (paths of chat webhooks carry tokens).</summary>
    public static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/…" : "(not a URL)";

    /// <summary><c>sha256=</c> and the lower-case hex HMAC-SHA256 of <paramref name="body"/> under <paramref name="secret"/>.</summary>
    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}
