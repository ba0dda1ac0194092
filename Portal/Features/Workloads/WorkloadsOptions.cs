using Microsoft.Extensions.Options;
using Portal.Features.Protection;

namespace Portal.Features.Workloads;

/// <summary>Settings of application workloads (appsettings <c>Workloads</c>): the PostgreSQL tools, restore servers, scripts.</summary>
public sealed class WorkloadsOptions
{
    public const string Section = "Workloads";

    /// <summary>
    /// Folder holding pg_dump and pg_restore. Default: the newest <c>/usr/lib/postgresql/N/bin</c> (Debian's layout),
    /// else the PATH.
    /// </summary>
    public string? PostgreSqlBinPath { get; set; }

    /// <summary>Other PostgreSQL servers a database may be restored to (besides the item's own server).</summary>
    public List<PostgreSqlServerOptions> PostgreSqlServers { get; set; } = [];

    /// <summary>How long a pre- or post-backup script may run when its item sets no timeout (default 300 s).</summary>
    public int DefaultScriptTimeoutSeconds { get; set; } = 300;
}

/// <summary>A PostgreSQL server restores may write to: its name in the portal, host and port.</summary>
public sealed class PostgreSqlServerOptions
{
    public string Name { get; set; } = "";
    public string Host { get; set; } = "";
    public int Port { get; set; } = 5432;
}

internal sealed class WorkloadsOptionsValidator : IValidateOptions<WorkloadsOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkloadsOptions options)
    {
        var errors = new List<string>();
        if (options.PostgreSqlBinPath is { Length: > 0 } bin && !Path.IsPathFullyQualified(bin))
            errors.Add($"Workloads:PostgreSqlBinPath (\"{bin}\") must be an absolute folder such as /usr/lib/postgresql/16/bin.");
        if (options.DefaultScriptTimeoutSeconds is < 1 or > ItemScripts.MaxTimeoutSeconds)
            errors.Add($"Workloads:DefaultScriptTimeoutSeconds must be between 1 and {ItemScripts.MaxTimeoutSeconds}.");
        for (var i = 0; i < options.PostgreSqlServers.Count; i++)
        {
            var s = options.PostgreSqlServers[i];
            if (string.IsNullOrWhiteSpace(s.Name) || string.IsNullOrWhiteSpace(s.Host))
                errors.Add($"Workloads:PostgreSqlServers:{i} needs a Name and a Host.");
            if (s.Port is < 1 or > 65535)
                errors.Add($"Workloads:PostgreSqlServers:{i}:Port ({s.Port}) is not a TCP port.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
