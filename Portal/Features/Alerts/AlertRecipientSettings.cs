namespace Portal.Features.Alerts;

/// <summary>
/// Who receives alert emails, per severity, as set in the portal by a Backup.Contributor (one row). Without it the
/// portal mails <c>Alerts:Email:Recipients</c> from configuration, which stays the default; the SMTP server and the
/// sender stay in configuration (they hold the host's secrets).
/// </summary>
public sealed class AlertRecipientSettings
{
    /// <summary>The one row's key.</summary>
    public const int Single = 1;

    public int Id { get; set; } = Single;
    public List<string> Critical { get; set; } = [];
    public List<string> Warning { get; set; } = [];
    public List<string> Information { get; set; } = [];
    public DateTime UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
    public uint Version { get; set; }

    public SeverityTargets Targets => new() { Critical = [.. Critical], Warning = [.. Warning], Information = [.. Information] };
}
