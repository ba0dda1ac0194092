using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Portal.Features.Identity;
using Portal.Features.Regions;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// bUnit with MudBlazor, the portal's real authorization policies and the real feature services on a
/// fresh PostgreSQL database.
/// </summary>
public abstract class PortalComponentTest : IAsyncLifetime
{
    protected BunitContext Context { get; } = new();
    protected TestDatabase Database { get; } = new();

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        Context.JSInterop.Mode = JSRuntimeMode.Loose;
        Context.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        Context.Services.AddMudServices();
        Context.Services.AddSingleton(Database.Factory);
        Context.Services.AddSingleton<RegionCatalog>(TestRegions.Catalog());
        Context.Services.AddSingleton(TimeProvider.System);
        Context.Services.AddScoped<ICurrentUser, AuthenticationStateCurrentUser>();
        Context.Services.AddAuthorizationBuilder().AddPortalPolicies();
        Context.Services.AddCascadingAuthenticationState();
        Context.Services.AddPortalVaults();
    }

    public async Task DisposeAsync()
    {
        await Context.DisposeAsync();
        await Database.DisposeAsync();
    }

    protected void SignIn(ClaimsPrincipal user) =>
        Context.Services.AddSingleton<AuthenticationStateProvider>(new FixedAuthenticationStateProvider(user));

    /// <summary>Renders <typeparamref name="T"/> inside the providers and cascading state the layout gives pages.</summary>
    protected IRenderedComponent<T> RenderPage<T>(Action<ComponentParameterCollectionBuilder<T>>? parameters = null)
        where T : IComponent
    {
        Context.Render<MudPopoverProvider>();
        Context.Render<MudDialogProvider>();
        return Context.Render<CascadingAuthenticationState>(p => p.AddChildContent<T>(parameters ?? (_ => { })))
            .FindComponent<T>();
    }

    /// <summary>Vaults created through the real service, as a contributor.</summary>
    protected async Task SeedVaultsAsync(int count)
    {
        var vaults = new VaultService(Database.Factory, TestRegions.Catalog(),
            new FixedCurrentUser(TestUsers.WithRoles("Seeder", PortalRoles.Contributor)), TimeProvider.System);
        for (var i = 1; i <= count; i++)
            await vaults.CreateAsync(new CreateVaultRequest($"vault-{i:000}", "east"));
    }
}
