using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
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
    /// Applies pending migrations. An unreachable or refusing database becomes one clear
    /// <see cref="PortalStartupException"/> instead of a stack trace.
    /// </summary>
    public static async Task MigratePortalDatabaseAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
        var target = DescribeTarget(db.Database.GetConnectionString());
        try
        {
            await db.Database.MigrateAsync(ct);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException || e.InnerException is NpgsqlException or SocketException)
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

    private static string DescribeTarget(string? connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{csb.Host}:{csb.Port}/{csb.Database}"; // never the password
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
