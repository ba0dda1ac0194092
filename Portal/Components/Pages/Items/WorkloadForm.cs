using Portal.Features.Protection;

namespace Portal.Components.Pages.Items;

/// <summary>The database settings or the scripts of the configure-protection form, as the user types them.</summary>
public sealed class WorkloadForm
{
    public bool IsDatabase { get; set; }
    public string Host { get; set; } = "";
    public int? Port { get; set; } = 5432;
    public string Database { get; set; } = "";
    public string User { get; set; } = "";
    public string Password { get; set; } = "";
    public string PreScript { get; set; } = "";
    public string PostScript { get; set; } = "";
    public int? ScriptTimeoutSeconds { get; set; }

    public DatabaseSettings? DatabaseSettings => IsDatabase ? new(Host, Port, Database, User, Password) : null;

    public ScriptSettings? ScriptSettings => IsDatabase || (string.IsNullOrWhiteSpace(PreScript) && string.IsNullOrWhiteSpace(PostScript))
        ? null
        : new(PreScript, PostScript, ScriptTimeoutSeconds);

    public static readonly string[] Fields = ["DatabaseHost", "DatabasePort", "DatabaseName", "DatabaseUser", "PreScript", "PostScript", "ScriptTimeoutSeconds"];
}
