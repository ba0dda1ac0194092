using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Portal.E2E;

/// <summary>
/// The real portal on Kestrel (a loopback port) in Development with the local sign-in, on its own fresh
/// database of the PostgreSQL that <c>./portal.sh test</c> started.
/// </summary>
public sealed class PortalApp : WebApplicationFactory<Program>
{
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
        builder.UseSetting("ConnectionStrings:Portal", TestEnvironment.ConnectionString(database));
        builder.UseSetting("Storage:Root", storageRoot);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(storageRoot, recursive: true);
        if (ownsDatabase)
            await TestEnvironment.DropDatabaseAsync(database);
    }
}
