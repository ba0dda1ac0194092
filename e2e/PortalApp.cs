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
    private readonly string? sharedRoot;

    /// <summary>A portal on a fresh database, or a second instance on <paramref name="sharedWith"/>'s database.</summary>
    public PortalApp(PortalApp? sharedWith = null)
    {
        database = sharedWith?.database ?? "portal_e2e_" + Guid.NewGuid().ToString("N")[..12];
        ownsDatabase = sharedWith is null;
        // Instances on one database share the storage, the key ring and the source folders, as a real cluster does.
        if (sharedWith is not null)
            sharedRoot = sharedWith.StorageRoot;
        SourceRoot = Path.Combine(StorageRoot, "sources");
        Directory.CreateDirectory(SourceRoot);
        RestoreRoot = Path.Combine(StorageRoot, "restores");
        Directory.CreateDirectory(RestoreRoot);
        UseKestrel(0);
        StartServer();
        BaseUrl = ClientOptions.BaseAddress.ToString().TrimEnd('/');
    }

    public string BaseUrl { get; }

    /// <summary>The folder under which this portal may protect items (Protection:SourceRoots).</summary>
    public string SourceRoot { get; }

    /// <summary>The folder under which alternate restores may write (Restore:Roots).</summary>
    public string RestoreRoot { get; }

    private string StorageRoot => sharedRoot ?? storageRoot;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Portal", TestEnvironment.ConnectionString(database));
        builder.UseSetting("Storage:Root", StorageRoot);
        builder.UseSetting("Protection:SourceRoots:0", Path.Combine(StorageRoot, "sources"));
        builder.UseSetting("Protection:SourceRoots:1", Path.Combine(StorageRoot, "sources"));
        builder.UseSetting("Protection:KeyRingPath", Path.Combine(StorageRoot, "keys"));
        builder.UseSetting("Restore:Roots:0", Path.Combine(StorageRoot, "restores"));
        builder.UseSetting("Protection:KdfMemoryKiB", "1024");
        builder.UseSetting("Protection:KdfIterations", "1");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(storageRoot))
            Directory.Delete(storageRoot, recursive: true);
        if (ownsDatabase)
            await TestEnvironment.DropDatabaseAsync(database);
    }
}
