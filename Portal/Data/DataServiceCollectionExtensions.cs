using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Portal.Features.Common;

namespace Portal.Data;

public static class DataServiceCollectionExtensions
{
    public const string ConnectionStringName = "Portal";

    public static WebApplicationBuilder AddPortalData(this WebApplicationBuilder builder)
    {
        // Resolved when the first context is made, so settings added by a test host or later sources count.
        builder.Services.AddDbContextFactory<PortalDbContext>((sp, options) =>
            options.UseNpgsql(ReadConnectionString(sp.GetRequiredService<IConfiguration>())));
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        return builder;
    }

    /// <summary>
    /// Creates the database if needed and applies pending migrations. An unreachable or refusing database
    /// becomes one clear <see cref="PortalStartupException"/> instead of a stack trace.
    /// </summary>
    public static async Task MigratePortalDatabaseAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        var connectionString = ReadConnectionString(services.GetRequiredService<IConfiguration>());
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PortalDbContext));
        var exists = await ProbeAsync(connectionString, ct);

        // A context of its own, without the portal's logger: on a new database EF Core logs the expected
        // failure of its first look at the migrations history as an error, which would mislead operators.
        await using var db = new PortalDbContext(new DbContextOptionsBuilder<PortalDbContext>().UseNpgsql(connectionString).Options);
        if (!exists)
            await db.GetService<IRelationalDatabaseCreator>().CreateAsync(ct);
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        await db.Database.MigrateAsync(ct);
        if (pending.Count > 0)
            logger.LogInformation("Portal database {Database}: applied {Count} migration(s), now at {Latest}",
                new NpgsqlConnectionStringBuilder(connectionString).Database, pending.Count, pending[^1]);
    }

    /// <summary>
    /// Opens one plain connection first, so that an unreachable server is one clear line rather than
    /// EF Core's logged stack trace. A database that does not exist yet is fine: migrating creates it.
    /// </summary>
    /// <returns>Whether the database exists.</returns>
    private static async Task<bool> ProbeAsync(string connectionString, CancellationToken ct)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 10 };
        var target = $"{csb.Host}:{csb.Port}/{csb.Database}"; // never the password
        try
        {
            await using var connection = new NpgsqlConnection(csb.ConnectionString);
            await connection.OpenAsync(ct);
            return true;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            return false;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            var reason = e is PostgresException pg ? pg.MessageText : (e.InnerException ?? e).Message;
            throw new PortalStartupException(
                $"The portal database at {target} did not answer ({reason}). Check ConnectionStrings:Portal and that PostgreSQL is running.");
        }
    }

    private static string ReadConnectionString(IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new PortalStartupException(
                "ConnectionStrings:Portal is not set: point it at a PostgreSQL database (./portal.sh run starts one for you).");
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new PortalStartupException($"ConnectionStrings:Portal is not a valid PostgreSQL connection string: {e.Message}");
        }

        return connectionString;
    }

}

/// <summary><c>/healthz</c>: healthy when the database answers.</summary>
internal sealed class DatabaseHealthCheck(IDbContextFactory<PortalDbContext> dbFactory) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            return await db.Database.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy("The database answers.")
                : HealthCheckResult.Unhealthy("The database does not answer.");
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("The database does not answer.");
        }
    }
}
