using Bunit;
using MudBlazor;
using Portal.Components.Pages.Vaults;
using Portal.Features.Identity;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The vault page's Immutability panel: a contributor makes the vault immutable and asks to lock it; others only read.</summary>
public sealed class VaultImmutabilityTests : PortalComponentTest
{
    [Fact]
    public async Task A_contributor_makes_the_vault_immutable_then_requests_the_lock_by_typing_its_name()
    {
        await TestPortal.For(Database, TestUsers.WithRoles("Bob", PortalRoles.Contributor)).Vaults().CreateAsync(new CreateVaultRequest("payroll", "east"));
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));
        var dialogs = Context.Render<MudDialogProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vault-immutability-enable]")));
        Assert.Equal("Off", page.Find("[data-testid=vault-immutability-essentials]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=vault-immutability-lock]")); // locking comes after making it immutable

        await ClickAsync(page, "[data-testid=vault-immutability-enable]");

        page.WaitForAssertion(() => Assert.Equal("Immutable (unlocked)", page.Find("[data-testid=vault-immutability-essentials]").TextContent));
        Assert.StartsWith("Immutable (unlocked): recovery points cannot be removed", page.Find("[data-testid=vault-immutability-state]").TextContent);
        // The panel renders once more when its handler ends (the buttons stop being busy): the lock is offered then.
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=vault-immutability-lock]").HasAttribute("disabled")));
        await ClickAsync(page, "[data-testid=vault-immutability-lock]");
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("#lock-immutability-confirm")));
        Assert.Contains("cannot be undone, by anyone", dialogs.Find("[data-testid=lock-immutability-dialog]").TextContent);
        Assert.True(dialogs.Find("[data-testid=lock-immutability-submit]").HasAttribute("disabled"));
        dialogs.Find("#lock-immutability-confirm").Input("payroll");
        await ClickAsync(dialogs, "[data-testid=lock-immutability-submit]");

        page.WaitForAssertion(() => Assert.Contains("Lock the immutability of vault payroll: irreversible", page.Find("[data-testid=vault-pending-approval]").TextContent));
        Assert.Equal("Immutable (unlocked)", page.Find("[data-testid=vault-immutability-essentials]").TextContent); // until Bob approves
    }

    [Theory]
    [InlineData(PortalRoles.Operator)]
    [InlineData(PortalRoles.Reader)]
    [InlineData(PortalRoles.RestoreOperator)]
    public async Task Other_roles_see_the_state_without_actions(string role)
    {
        await TestPortal.For(Database, TestUsers.WithRoles("Bob", PortalRoles.Contributor)).Vaults().CreateAsync(new CreateVaultRequest("payroll", "east"));
        SignIn(TestUsers.WithRoles("Someone", role));
        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vault-immutability-state]")));
        Assert.Empty(page.FindAll("[data-testid=vault-immutability] button"));
    }
}
