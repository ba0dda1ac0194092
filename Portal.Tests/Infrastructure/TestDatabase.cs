using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Data;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// A fresh, migrated database on the PostgreSQL server that <c>./portal.sh test</c> starts
/// (its address in PORTAL_TEST_PG), dropped again on dispose.
/// </summary>
public sealed class TestDatabase : IAsyncLifetime
{
    private readonly string server = Environment.GetEnvironmentVariable("PORTAL_TEST_PG")
        ?? throw new InvalidOperationException(
            "PORTAL_TEST_PG is not set: run the tests with ./portal.sh test, which starts a throwaway PostgreSQL.");

    private readonly string name = "portal_test_" + Guid.NewGuid().ToString("N")[..12];

    public string ConnectionString => new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;

    public IDbContextFactory<PortalDbContext> Factory => new Factory(ConnectionString);

    public async Task InitializeAsync()
    {
        await using var db = Factory.CreateDbContext();
        await db.Database.MigrateAsync(); // creates the database, as the portal does at start
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}

file sealed class Factory(string connectionString) : IDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext() =>
        new(new DbContextOptionsBuilder<PortalDbContext>().UseNpgsql(connectionString).LogTo(l => { if (Environment.GetEnvironmentVariable("PORTAL_TEST_SQL") is { } f) File.AppendAllText(f, l + "\n"); }, Microsoft.Extensions.Logging.LogLevel.Information).Options);
}
