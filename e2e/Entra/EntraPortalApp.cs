using System.Net;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Identity.Web;

namespace Portal.E2E.Entra;

/// <summary>
/// The portal in Production with Microsoft.Identity.Web configured as in production against the local
/// Entra-shaped provider, on HTTPS (Kestrel, loopback). The only test-specific part: trusting the
/// throw-away certificate, through DI.
/// </summary>
public sealed class EntraPortalApp : WebApplicationFactory<Program>
{
    private readonly EntraProvider provider;
    private readonly string database = "portal_entra_" + Guid.NewGuid().ToString("N")[..12];
    private readonly string storageRoot = Directory.CreateTempSubdirectory("portal-entra-regions-").FullName;

    private EntraPortalApp(EntraProvider provider)
    {
        this.provider = provider;
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(provider.Certificate)));
        StartServer();
        BaseUrl = ClientOptions.BaseAddress.ToString().TrimEnd('/');
    }

    public string BaseUrl { get; }

    /// <summary>The portal's own database, for arranging what a journey starts from.</summary>
    public string ConnectionString => TestEnvironment.ConnectionString(database);

    public static async Task<EntraPortalApp> StartAsync(EntraProvider provider)
    {
        var app = new EntraPortalApp(provider);
        await provider.RegisterClientAsync(app.BaseUrl);
        return app;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseStaticWebAssets();
        builder.UseSetting("ConnectionStrings:Portal", ConnectionString);
        builder.UseSetting("Storage:Root", storageRoot);
        builder.UseSetting("AzureAd:Instance", provider.Instance);
        builder.UseSetting("AzureAd:TenantId", provider.TenantId);
        builder.UseSetting("AzureAd:ClientId", provider.ClientId);
        builder.UseSetting("AzureAd:ClientSecret", provider.ClientSecret);
        builder.ConfigureTestServices(services =>
        {
            services.Configure<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme,
                options => options.BackchannelHttpHandler = provider.CreateTrustingHandler());
            services.AddHttpClient("entra-test").ConfigurePrimaryHttpMessageHandler(provider.CreateTrustingHandler);
            services.Configure<AadIssuerValidatorOptions>(options => options.HttpClientName = "entra-test");
        });
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(database);
        Directory.Delete(storageRoot, recursive: true);
    }
}
