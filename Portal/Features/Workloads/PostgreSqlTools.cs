using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Npgsql;
using Portal.Features.Common;

namespace Portal.Features.Workloads;

/// <summary>Where a PostgreSQL database is and how to sign in (the password only in memory, from its sealed form).</summary>
public sealed record DatabaseTarget(string Host, int Port, string Database, string User, string Password)
{
    public string Display => $"{Database} on {Host}:{Port}";

    /// <summary>The snapshot's source name: what was backed up, without the password.</summary>
    public string SourceName => $"postgresql://{User}@{Host}:{Port}/{Database}";

    public string ConnectionString(string? database = null) => new NpgsqlConnectionStringBuilder
    {
        Host = Host, Port = Port, Database = database ?? Database, Username = User, Password = Password, Timeout = 15, Pooling = false,
    }.ConnectionString;

    public override string ToString() => Display; // never the password
}

/// <summary>
/// pg_dump and pg_restore: where they are, their versions against the server's (pg_dump refuses a server newer than
/// itself, so the check runs first and says what to install), and how to start them with the password in their
/// environment only (PGPASSWORD), never on a command line or in a log.
/// </summary>
public sealed partial class PostgreSqlTools(IOptions<WorkloadsOptions> options)
{
    public string BinPath => options.Value.PostgreSqlBinPath is { Length: > 0 } configured ? configured
        : Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(Directory.Exists)
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault() ?? ""
            : "";

    public string Tool(string name) => BinPath.Length > 0 && File.Exists(Path.Combine(BinPath, name)) ? Path.Combine(BinPath, name) : name;

    /// <summary>The tool's major version from <c>--version</c> ("pg_dump (PostgreSQL) 15.14 (Debian ...)" → 15).</summary>
    public async Task<(int Major, string Text)> ToolVersionAsync(string name, CancellationToken ct)
    {
        var path = Tool(name);
        var start = new ProcessStartInfo(path, "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string text;
        try
        {
            using var process = Process.Start(start)!;
            text = (await process.StandardOutput.ReadToEndAsync(ct)).Trim();
            await process.WaitForExitAsync(ct);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PortalConflictException(
                $"{name} was not found ({path}: {e.Message}). Install the PostgreSQL client tools (Debian: postgresql-client) or set Workloads:PostgreSqlBinPath to their folder.");
        }

        var match = VersionPattern().Match(text);
        if (!match.Success)
            throw new PortalConflictException($"{path} --version printed \"{text}\", which names no PostgreSQL version. Set Workloads:PostgreSqlBinPath to the folder of pg_dump and pg_restore.");
        return (int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), text);
    }

    /// <summary>The server's major version (<c>server_version_num</c> 150014 → 15), or a conflict saying why it cannot be reached.</summary>
    /// <param name="anyDatabase">Connect to the target's database, or to <c>postgres</c> when it does not exist there (a restore to another server).</param>
    public static async Task<int> ServerMajorAsync(DatabaseTarget target, CancellationToken ct, bool anyDatabase = false)
    {
        try
        {
            await using var connection = anyDatabase ? await WorkloadRules.OpenMaintenanceAsync(target, ct) : new NpgsqlConnection(target.ConnectionString());
            if (connection.State != System.Data.ConnectionState.Open)
                await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT current_setting('server_version_num')::int", connection);
            return (int)(await command.ExecuteScalarAsync(ct))! / 10000;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new PortalConflictException(Unreachable(target, e));
        }
    }

    internal static string Unreachable(DatabaseTarget target, Exception e, string? database = null) =>
        e is PostgresException { SqlState: "28P01" or "28000" }
            ? $"PostgreSQL at {target.Host}:{target.Port} refused user {target.User}: the password or the server's pg_hba.conf does not allow it. Change the item's credentials."
            : e is PostgresException { SqlState: "3D000" }
                ? $"The database {database ?? target.Database} does not exist on {target.Host}:{target.Port}."
                : $"PostgreSQL at {target.Host}:{target.Port} cannot be reached: {e.Message}";

    /// <summary>
    /// Checks that <paramref name="tool"/> (pg_dump or pg_restore) can work with the server: its major version must be
    /// the server's or newer. Throws a conflict naming both versions and the fix; nothing has run yet.
    /// </summary>
    public async Task<(int Tool, int Server)> CheckVersionsAsync(string tool, DatabaseTarget target, CancellationToken ct, bool anyDatabase = false)
    {
        var (toolMajor, text) = await ToolVersionAsync(tool, ct);
        var server = await ServerMajorAsync(target, ct, anyDatabase);
        if (toolMajor < server)
            throw new PortalConflictException(
                $"{tool} is version {toolMajor} ({text}) but the server {target.Host}:{target.Port} runs PostgreSQL {server}: {tool} cannot work with a newer server. " +
                $"Install the PostgreSQL {server} client tools (Debian: postgresql-client-{server}) and set Workloads:PostgreSqlBinPath to their bin folder. Nothing was run.");
        return (toolMajor, server);
    }

    /// <summary>Starts a tool with the target's address and user as arguments and the password in its environment only.</summary>
    public Process Start(string tool, DatabaseTarget target, IEnumerable<string> arguments, bool redirectInput = false)
    {
        var start = new ProcessStartInfo(Tool(tool))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectInput, UseShellExecute = false,
        };
        foreach (var a in new[] { "--host", target.Host, "--port", target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--username", target.User, "--no-password" })
            start.ArgumentList.Add(a);
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        start.Environment["PGPASSWORD"] = target.Password;
        start.Environment["PGCONNECT_TIMEOUT"] = "15";
        return Process.Start(start) ?? throw new PortalConflictException($"{tool} could not be started.");
    }

    /// <summary>The line of a tool's messages that says what went wrong: the last "error:" line, else the last line.</summary>
    public static string? LastError(string messages)
    {
        var lines = messages.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.LastOrDefault(l => l.Contains("error:", StringComparison.OrdinalIgnoreCase)) ?? lines.LastOrDefault();
    }

    [GeneratedRegex(@"\(PostgreSQL\)\s+(\d+)")]
    private static partial Regex VersionPattern();
}
