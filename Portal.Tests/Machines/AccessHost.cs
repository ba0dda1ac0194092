using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Data;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Crypto;
using Portal.Engine.Storage;
using Portal.Features.Identity;
using Portal.Features.Machines;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Machines;

/// <summary>
/// The real portal in-process (WebApplicationFactory over Program, Development) on a fresh test database, real
/// local-folder regions under a temporary folder, and a fake clock. <c>/test/sign-in?name=N</c> issues the portal's own
/// sign-in cookie for a Backup.Contributor (as the development sign-in does), so tests can act as a signed-in user.
/// </summary>
/// <param name="overrides">Settings over the defaults (an Azure replica in a region, for instance).</param>
public sealed class AccessHost(IReadOnlyDictionary<string, string>? overrides = null) : IAsyncLifetime
{
    public const string Passphrase = "correct horse battery staple";
    public static readonly EngineOptions EngineOptions = new() { Kdf = new KdfParameters(MemoryKiB: 1024, Iterations: 1, Parallelism: 1) };

    private readonly TestDatabase database = new();
    private WebApplicationFactory<Program>? factory;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "portal-access-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The region folders (every replica of every region).</summary>
    public string Regions => Path.Combine(Root, "regions");

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public IServiceProvider Services => factory!.Services;

    public Uri BaseAddress => factory!.Server.BaseAddress;

    public TestServer Server => factory!.Server;

    public IDbContextFactory<PortalDbContext> Db => database.Factory;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        Directory.CreateDirectory(Root);
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Portal"] = database.ConnectionString,
            ["Storage:Root"] = Regions,
            ["Protection:SourceRoots:0"] = Path.Combine(Root, "sources"),
            ["Protection:KeyRingPath"] = Path.Combine(Root, "keys"),
            ["Protection:KdfMemoryKiB"] = "1024",
            ["Protection:KdfIterations"] = "1",
            ["Protection:RetentionCron"] = "0 0 3 1 1 ? 2099",
            ["Restore:Roots:0"] = Path.Combine(Root, "restores"),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        string[] regions = ["east", "west", "central"];
        for (var r = 0; r < regions.Length; r++)
            for (var i = 0; i < 3; i++)
                settings[$"Storage:Regions:{r}:Replicas:{i}:Path"] = $"{regions[r]}/{i + 1}";
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
            settings[key] = value;
        factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Development");
            foreach (var (key, value) in settings)
                builder.UseSetting(key, value);
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton<TimeProvider>(Clock);
                services.AddTransient<IStartupFilter, TestSignIn>();
            });
        });
        _ = factory.Server; // start
    }

    public async Task DisposeAsync()
    {
        if (factory is not null)
            await factory.DisposeAsync();
        await database.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp folder is harmless
        }
    }

    /// <summary>A client that neither follows redirects nor keeps cookies.</summary>
    public HttpClient Client() => factory!.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

    /// <summary>A vault in region <paramref name="region"/> (east).</summary>
    public async Task<Vault> CreateVaultAsync(string name, string region = "east")
    {
        var now = Clock.GetUtcNow().UtcDateTime;
        var vault = new Vault
        {
            Id = Guid.NewGuid(), Name = name, NormalizedName = name.ToUpperInvariant(), Region = region, CreatedAt = now, CreatedBy = "Ann", UpdatedAt = now,
            UpdatedBy = "Ann",
        };
        await using var db = await Db.CreateDbContextAsync();
        db.Vaults.Add(vault);
        await db.SaveChangesAsync();
        return vault;
    }

    /// <summary>A credentials file for <paramref name="vault"/>, as "Add a machine" makes it (only the secret's hash is kept).</summary>
    public async Task<MachineCredentialsFile> CreateCredentialsAsync(Vault vault, TimeSpan? lifetime = null)
    {
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = Clock.GetUtcNow().UtcDateTime;
        var credential = new MachineCredential
        {
            Id = Guid.NewGuid(), VaultId = vault.Id, SecretHash = SHA256.HashData(Encoding.UTF8.GetBytes(secret)), CreatedAt = now, CreatedBy = "Ann",
            ExpiresAt = now + (lifetime ?? MachineRules.CredentialLifetime),
        };
        await using var db = await Db.CreateDbContextAsync();
        db.MachineCredentials.Add(credential);
        await db.SaveChangesAsync();
        return new MachineCredentialsFile(1, BaseAddress.ToString(), vault.Id, vault.Name, credential.Id, secret, credential.ExpiresAt);
    }

    /// <summary>Registers a machine through the endpoint and returns it with its private keys.</summary>
    public async Task<TestMachine> RegisterAsync(Vault vault, string name)
    {
        var file = await CreateCredentialsAsync(vault);
        var machine = TestMachine.Create(name);
        using var client = Client();
        using var response = await client.PostAsJsonAsync(AgentRoutes.Register, machine.Request(file));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var registered = (await response.Content.ReadFromJsonAsync<RegisterResponse>())!;
        return machine with { Id = registered.MachineId, VaultId = vault.Id, EscrowKey = Convert.FromBase64String(registered.EscrowKey) };
    }

    /// <summary>A client of the store endpoint as <paramref name="machine"/> (optionally under a read grant of <paramref name="source"/>).</summary>
    public HttpObjectStore Store(TestMachine machine, Guid? source = null) =>
        new(Client(), BaseAddress, () => machine.Authorization(Clock.GetUtcNow()), source);

    /// <summary>Every file of the regions with the SHA-256 of its bytes.</summary>
    public SortedDictionary<string, string> RegionTree()
    {
        var tree = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(Regions))
            return tree;
        foreach (var file in Directory.EnumerateFiles(Regions, "*", SearchOption.AllDirectories))
            tree[Path.GetRelativePath(Regions, file)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
        return tree;
    }

    /// <summary>The portal's own sign-in cookie for a contributor named by the query (as the development sign-in issues it).</summary>
    private sealed class TestSignIn : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (http, proceed) =>
            {
                if (http.Request.Path == "/test/sign-in")
                {
                    var local = http.RequestServices.GetRequiredService<LocalSignIn>();
                    await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme,
                        local.CreatePrincipal(http.Request.Query["name"].ToString(), [PortalRoles.Contributor]));
                    return;
                }

                await proceed();
            });
            next(app);
        };
    }
}

/// <summary>A machine as the agent keeps it: its id and private keys.</summary>
public sealed record TestMachine(string Name, ECDsa Signing, ECDiffieHellman Agreement)
{
    public Guid Id { get; init; }
    public Guid VaultId { get; init; }
    public byte[] EscrowKey { get; init; } = [];

    public static TestMachine Create(string name) =>
        new(name, ECDsa.Create(ECCurve.NamedCurves.nistP256), ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256));

    public RegisterRequest Request(MachineCredentialsFile file, string? name = null) => new(
        file.CredentialId, file.Secret, name ?? Name, "Debian GNU/Linux 13 (x64)", "1.0.0",
        Convert.ToBase64String(Signing.ExportSubjectPublicKeyInfo()), Convert.ToBase64String(Agreement.ExportSubjectPublicKeyInfo()));

    public string Authorization(DateTimeOffset now) => MachineToken.Scheme + " " + MachineToken.Create(Id, Signing, now);
}
