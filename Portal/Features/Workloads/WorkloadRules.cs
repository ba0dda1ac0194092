using Npgsql;

namespace Portal.Features.Workloads;

/// <summary>The rules of database items and scripts, with the message a user needs for each broken one.</summary>
public static class WorkloadRules
{
    /// <summary>Null when <paramref name="name"/> is a database name the portal accepts (letters, digits, _ and -, at most 63, not starting with -).</summary>
    public static string? CheckDatabaseName(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "Give the database's name."
        : name.Length > 63 ? "A PostgreSQL database name has at most 63 characters."
        : !(char.IsAsciiLetter(name[0]) || name[0] == '_') || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? $"\"{name}\" is not a database name the portal accepts: use the letters A to Z (no accents or other alphabets), digits, _ and -, starting with a letter or _."
        : null;

    public static string? CheckUser(string? user) =>
        string.IsNullOrWhiteSpace(user) ? "Give the user the portal signs in as (it needs to read every table, e.g. the owner or a member of pg_read_all_data)."
        : user.Length > 63 || user.Any(char.IsControl) ? "That is not a PostgreSQL user name." : null;

    public static string? CheckHost(string? host) =>
        string.IsNullOrWhiteSpace(host) ? "Give the server's host name or address."
        : host.Length > 255 || host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or '=' or ';') ? $"\"{host}\" is not a host name or address."
        : null;

    public static string? CheckPort(int? port) => port is null or (>= 1 and <= 65535) ? null : $"{port} is not a TCP port (1-65535).";

    /// <summary>A connection for CREATE DATABASE and catalog queries: the item's own database, else <c>postgres</c> (another server).</summary>
    public static async Task<NpgsqlConnection> OpenMaintenanceAsync(DatabaseTarget target, CancellationToken ct)
    {
        foreach (var database in new[] { target.Database, "postgres" })
        {
            var connection = new NpgsqlConnection(target.ConnectionString(database));
            try
            {
                await connection.OpenAsync(ct);
                return connection;
            }
            catch (PostgresException e) when (e.SqlState == "3D000" && database != "postgres")
            {
                await connection.DisposeAsync();
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }

        throw new InvalidOperationException("unreachable");
    }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
}
