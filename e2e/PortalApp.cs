using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace Portal.E2E;

/// <summary>
/// The real portal on Kestrel (a loopback port) in Development with the local sign-in, on its own fresh
/// database of the PostgreSQL that <c>./portal.sh test</c> started.
/// </summary>
public sealed class PortalApp : WebApplicationFactory<Program>
{
    private readonly string server = Environment.GetEnvironmentVariable("PORTAL_TEST_PG")
        ?? throw new InvalidOperationException("PORTAL_TEST_PG is not set: run the tests with ./portal.sh test.");

    private readonly string database;
    private readonly bool ownsDatabase;
    private readonly string storageRoot = Directory.CreateTempSubdirectory("portal-e2e-regions-").FullName;

    /// <summary>A portal on a fresh database, or a second instance on <paramref name="sharedWith"/>'s database.</summary>
    public PortalApp(PortalApp? sharedWith = null)
    {
        database = sharedWith?.database ?? "portal_e2e_" + Guid.NewGuid().ToString("N")[..12];
        ownsDatabase = sharedWith is null;
        UseKestrel(0);
        StartServer();
        BaseUrl = ClientOptions.BaseAddress.ToString().TrimEnd('/');
    }

    public string BaseUrl { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Portal", new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString);
        builder.UseSetting("Storage:Root", storageRoot);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(storageRoot, recursive: true);
        if (!ownsDatabase)
            return;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
