using Portal.Features.Identity;

namespace Portal.E2E.Entra;

/// <summary>One Entra-shaped provider and one portal signed in through it, shared by a test class.</summary>
public sealed class EntraFixture : IAsyncLifetime
{
    public static readonly EntraUser[] Users =
    [
        new("carla@contoso.test", "Carla-pass-1", "Carla Contributor", PortalRoles.Contributor),
        new("otto@contoso.test", "Otto-pass-1", "Otto Operator", PortalRoles.Operator),
        new("rita@contoso.test", "Rita-pass-1", "Rita Reader", PortalRoles.Reader),
        new("hana@contoso.test", "Hana-pass-1", "Hana Helpdesk", PortalRoles.RestoreOperator),
    ];

    public EntraProvider Provider { get; private set; } = null!;
    public EntraPortalApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Provider = await EntraProvider.StartAsync(Users);
        App = await EntraPortalApp.StartAsync(Provider);
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Provider.DisposeAsync();
    }
}
