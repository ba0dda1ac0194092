using Bunit;
using MudBlazor;
using Portal.Components.Pages.Vaults;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>Deleting a vault that still holds items is refused before anyone types its name (issue 25).</summary>
public sealed class VaultDeleteTests : ProtectionComponentTest
{
    [Fact]
    public async Task Delete_on_a_vault_with_items_says_why_at_once_instead_of_asking_for_its_name()
    {
        var vault = await CreateVaultAsync("payroll");
        await SeedItemAsync(vault, "share", ProtectionState.Protected);
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));
        var dialogs = Context.Render<MudDialogProvider>();
        var snackbars = Context.Render<MudSnackbarProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vault-delete]")));

        await ClickAsync(page, "[data-testid=vault-delete]");

        snackbars.WaitForAssertion(() => Assert.Contains("Vault payroll still holds 1 backup item(s). Stop protection and delete their backup data first.", snackbars.Markup));
        Assert.Empty(dialogs.FindAll("[data-testid=delete-vault-dialog]"));
    }

    [Fact]
    public async Task Delete_on_an_empty_vault_asks_for_its_name()
    {
        await CreateVaultAsync("payroll");
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));
        var dialogs = Context.Render<MudDialogProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vault-delete]")));

        await ClickAsync(page, "[data-testid=vault-delete]");

        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("[data-testid=delete-vault-dialog]")));
    }
}
