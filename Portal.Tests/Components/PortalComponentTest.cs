using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MudBlazor;
using MudBlazor.Services;
using Portal.Features.Identity;
using Portal.Features.Regions;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// bUnit with MudBlazor, the portal's real authorization policies and the real feature services (protection too) on a
/// fresh PostgreSQL database.
/// </summary>
public abstract class PortalComponentTest : IAsyncLifetime
{
    protected BunitContext Context { get; } = new();
    protected TestDatabase Database { get; } = new();

    /// <summary>A temporary folder for the protection services: sources/ (the allowed source root), keys/, regions/.</summary>
    protected string Root { get; } = Directory.CreateTempSubdirectory("portal-components-").FullName;

    protected string SourceRoot => Path.Combine(Root, "sources");

    protected PortalComponentTest() => Context.Services.AddProtectionServices(Database, Root);

    static PortalComponentTest() =>
        // The components query a real database: allow for a loaded CI machine (the default is one second).
        BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Finds and clicks in one render: pages reload around their buttons, and a handler found before a re-render is gone.</summary>
    protected static Task ClickAsync<T>(IRenderedComponent<T> component, string selector) where T : IComponent =>
        component.InvokeAsync(() => component.Find(selector).Click());

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        Context.JSInterop.Mode = JSRuntimeMode.Loose;
        Context.Services.AddMudServices();
        Context.Services.AddFeatureServices(Database);
        Context.Services.AddScoped<ICurrentUser, AuthenticationStateCurrentUser>();
        Context.Services.AddSingleton<AuthenticationStateProvider>(_ => new FixedAuthenticationStateProvider(user));
        // bUnit registers placeholders for authorization: use the real service and the portal's real policies.
        Context.Services.RemoveAll<IAuthorizationService>();
        Context.Services.RemoveAll<IAuthorizationPolicyProvider>();
        Context.Services.AddAuthorizationBuilder().AddPortalPolicies();
        Context.Services.AddCascadingAuthenticationState();
    }

    public async Task DisposeAsync()
    {
        await Context.DisposeAsync();
        await Database.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }

    private ClaimsPrincipal user = TestUsers.Anonymous;

    /// <summary>The user the components see; call before the first render.</summary>
    protected void SignIn(ClaimsPrincipal signedIn) => user = signedIn;

    /// <summary>Renders the providers the layout gives pages, once (a test may open a second page); services can't be added after this.</summary>
    protected void RenderProviders()
    {
        if (Popovers is not null)
            return;
        Context.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        Popovers = Context.Render<MudPopoverProvider>();
    }

    /// <summary>Where open menus and selects render their items (after <see cref="RenderProviders"/> or <see cref="RenderPage{T}"/>).</summary>
    protected IRenderedComponent<MudPopoverProvider> Popovers { get; private set; } = null!;

    /// <summary>Renders <typeparamref name="T"/> inside the providers and cascading state the layout gives pages.</summary>
    protected IRenderedComponent<T> RenderPage<T>(Action<ComponentParameterCollectionBuilder<T>>? parameters = null)
        where T : IComponent
    {
        RenderProviders();
        return Context.Render<CascadingAuthenticationState>(p => p.AddChildContent<T>(parameters ?? (_ => { })))
            .FindComponent<T>();
    }

    /// <summary>Vaults created through the real service, as a contributor.</summary>
    protected async Task SeedVaultsAsync(int count)
    {
        var vaults = TestPortal.For(Database, TestUsers.WithRoles("Seeder", PortalRoles.Contributor)).Vaults();
        for (var i = 1; i <= count; i++)
            await vaults.CreateAsync(new CreateVaultRequest($"vault-{i:000}", "east"));
    }
}
