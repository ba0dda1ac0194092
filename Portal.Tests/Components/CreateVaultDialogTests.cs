using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using MudBlazor;
using Portal.Components.Pages.Vaults;
using Portal.Features.Identity;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

public sealed class CreateVaultDialogTests : PortalComponentTest
{
    private async Task<(IRenderedComponent<MudDialogProvider> Provider, IDialogReference Dialog)> OpenAsync()
    {
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        RenderProviders();
        var provider = Context.Render<MudDialogProvider>();
        var dialogs = Context.Services.GetRequiredService<IDialogService>();
        IDialogReference? reference = null;
        await provider.InvokeAsync(async () => reference = await dialogs.ShowAsync<CreateVaultDialog>("Create vault"));
        return (provider, reference!);
    }

    private async Task<int> VaultRowsAsync()
    {
        await using var db = Database.Factory.CreateDbContext();
        return await db.Vaults.CountAsync();
    }

    [Fact]
    public async Task An_invalid_name_shows_the_rule_at_the_field_while_typing_and_nothing_is_saved()
    {
        var (provider, _) = await OpenAsync();

        provider.Find("#vault-name").Input("9 lives");
        Assert.Contains("starts with a letter", provider.Markup);

        provider.Find("[data-testid=create-vault-submit]").Click();

        provider.WaitForAssertion(() => Assert.Contains("starts with a letter", provider.Find(".mud-input-helper-text.mud-input-error").TextContent));
        Assert.Equal(0, await VaultRowsAsync());
    }

    [Fact]
    public async Task A_duplicate_name_is_refused_at_the_field_and_the_dialog_stays_open()
    {
        await SeedVaultsAsync(1);
        var (provider, dialog) = await OpenAsync();

        provider.Find("#vault-name").Input("VAULT-001");
        provider.Find("[data-testid=create-vault-submit]").Click();

        provider.WaitForAssertion(() => Assert.Contains("already exists", provider.Find(".mud-input-helper-text.mud-input-error").TextContent));
        Assert.False(dialog.Result.IsCompleted);
        Assert.Equal(1, await VaultRowsAsync());
    }

    [Fact]
    public async Task A_valid_name_creates_a_GRS_vault_in_the_first_paired_region_and_closes()
    {
        var (provider, dialog) = await OpenAsync();

        provider.Find("#vault-name").Input("hr-documents");
        provider.Find("[data-testid=create-vault-submit]").Click();

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(30));
        var created = Assert.IsType<VaultDetails>(result!.Data);
        Assert.Equal(("hr-documents", "east", StorageRedundancy.GRS), (created.Name, created.Region, created.Redundancy));
        Assert.Equal(1, await VaultRowsAsync());
    }
}
