using Bunit;
using Portal.Components.Layout;
using Portal.Components.Pages.Approvals;
using Portal.Components.Pages.Vaults;
using Portal.Features.Identity;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>Each role is offered only the actions it may take (the services refuse the rest anyway).</summary>
public sealed class RoleActionsTests : PortalComponentTest
{
    public static TheoryData<string> Roles() => [.. PortalRoles.All];

    private async Task ArrangeVaultWithPendingDeletionAsync()
    {
        var setup = TestPortal.For(Database, TestUsers.WithRoles("Setup", PortalRoles.Contributor));
        var vault = await setup.Vaults().CreateAsync(new CreateVaultRequest("payroll", "east"));
        await setup.Vaults().RequestDeleteAsync(vault.Id, vault.Version, "payroll");
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task The_vault_page_offers_properties_and_delete_to_contributors_only(string role)
    {
        await ArrangeVaultWithPendingDeletionAsync();
        SignIn(TestUsers.WithRoles("Someone", role));

        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vault-overview]")));
        var expected = role == PortalRoles.Contributor ? 1 : 0;
        Assert.Equal(expected, page.FindAll("[data-testid=vault-properties]").Count);
        Assert.Equal(expected, page.FindAll("[data-testid=vault-delete]").Count);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Approve_and_reject_are_offered_to_other_contributors_only(string role)
    {
        await ArrangeVaultWithPendingDeletionAsync();
        SignIn(TestUsers.WithRoles("Someone else", role));

        var page = RenderPage<ApprovalList>();

        page.WaitForAssertion(() => Assert.Contains("Waiting for approval", page.Find("[data-testid=approval-status]").TextContent));
        var expected = role == PortalRoles.Contributor ? 1 : 0;
        Assert.Equal(expected, page.FindAll("[data-testid=approval-approve]").Count);
        Assert.Equal(expected, page.FindAll("[data-testid=approval-reject]").Count);
        Assert.Empty(page.FindAll("[data-testid=approval-cancel]"));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void The_audit_log_is_in_the_navigation_of_contributors_and_readers_only(string role)
    {
        SignIn(TestUsers.WithRoles("Someone", role));

        var nav = RenderPage<NavMenu>();

        var expected = role is PortalRoles.Contributor or PortalRoles.Reader;
        Assert.Equal(expected, nav.FindAll("a[href='audit']").Count == 1);
        Assert.Single(nav.FindAll("a[href='vaults']"));
    }
}
