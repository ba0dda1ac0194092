using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Data;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// A fresh, migrated database on the PostgreSQL server that <c>./portal.sh test</c> starts
/// (its address in PORTAL_TEST_PG), dropped again on dispose. The first one of the test process is migrated as the
/// portal migrates its own at start; every one is then a copy of it (<c>CREATE DATABASE … TEMPLATE</c>), which takes a
/// fraction of the time of running every migration again for each of the suite's hundreds of databases.
/// </summary>
public sealed class TestDatabase : IAsyncLifetime
{
    private readonly string server = Environment.GetEnvironmentVariable("PORTAL_TEST_PG")
        ?? throw new InvalidOperationException(
            "PORTAL_TEST_PG is not set: run the tests with ./portal.sh test, which starts a throwaway PostgreSQL.");

    private readonly string name = "portal_test_" + Guid.NewGuid().ToString("N")[..12];

    public string ConnectionString => new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;

    public IDbContextFactory<PortalDbContext> Factory => new Factory(ConnectionString);

    private static readonly string TemplateName = "portal_template_" + Guid.NewGuid().ToString("N")[..12];
    private static readonly SemaphoreSlim TemplateGate = new(1, 1);
    private static bool templateReady;

    public async Task InitializeAsync()
    {
        await EnsureTemplateAsync(server);
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE \"{TemplateName}\"", connection);
        await create.ExecuteNonQueryAsync();
    }

    /// <summary>Migrates the template once per test process, as the portal migrates its database at start, and closes every connection to it.</summary>
    private static async Task EnsureTemplateAsync(string server)
    {
        if (Volatile.Read(ref templateReady))
            return;
        await TemplateGate.WaitAsync();
        try
        {
            if (templateReady)
                return;
            var template = new NpgsqlConnectionStringBuilder(server) { Database = TemplateName, Pooling = false }.ConnectionString;
            await using (var db = new Factory(template).CreateDbContext())
                await db.Database.MigrateAsync(); // creates the database, as the portal does at start
            Volatile.Write(ref templateReady, true);
        }
        finally
        {
            TemplateGate.Release();
        }
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
