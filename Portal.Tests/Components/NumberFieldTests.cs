using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Vaults;
using Portal.Components.Shared;
using Portal.Features.Identity;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// Issue 25: numbers out of range were clamped silently (soft delete 5 → 14, 99999 → 180; a policy's
/// 99999999999999999999 weeks → 4). Every number field in the portal now keeps what was typed and refuses it in words.
/// </summary>
public sealed class NumberFieldTests : PortalComponentTest
{
    [Theory]
    [InlineData("30", 30, null)]
    [InlineData(" 1,000 ", 1000, null)]
    [InlineData("", null, null)]
    [InlineData("-3", -3, null)]
    [InlineData("4.5", NumberField.NotANumber, "Enter a whole number, digits only.")]
    [InlineData("été", NumberField.NotANumber, "Enter a whole number, digits only.")]
    [InlineData("99999999999999999999", int.MaxValue, "99999999999999999999 is far too large.")]
    public void Text_is_read_as_a_whole_number_or_refused(string typed, int? value, string? message) =>
        Assert.Equal((value, message), NumberField.Read(typed));

    [Fact]
    public async Task Soft_delete_days_out_of_range_are_refused_with_the_range_and_kept_as_typed()
    {
        var vault = await TestPortal.For(Database, TestUsers.WithRoles("Ann", PortalRoles.Contributor)).Vaults().CreateAsync(new CreateVaultRequest("legal", "east"));
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        RenderProviders();
        var provider = Context.Render<MudDialogProvider>();
        var dialogs = Context.Services.GetRequiredService<IDialogService>();
        await provider.InvokeAsync(() => dialogs.ShowAsync<VaultPropertiesDialog>("Properties", new DialogParameters<VaultPropertiesDialog> { { d => d.Vault, vault } }));
        provider.WaitForAssertion(() => Assert.NotEmpty(provider.FindAll("#vault-soft-delete-days")));

        provider.Find("#vault-soft-delete-days").Input("5");
        await provider.InvokeAsync(() => provider.Find("[data-testid=vault-properties-save]").Click());

        provider.WaitForAssertion(() => Assert.Contains("Soft delete keeps deleted backup data 14 to 180 days.", provider.Markup));
        Assert.Equal("5", provider.Find("#vault-soft-delete-days").GetAttribute("value")); // it became 14 without a word
        await using (var db = Database.Factory.CreateDbContext())
            Assert.Equal(14, (await db.Vaults.SingleAsync()).SoftDeleteRetentionDays);

        provider.Find("#vault-soft-delete-days").Input("99999999999999999999");
        provider.WaitForAssertion(() => Assert.Contains("99999999999999999999 is far too large.", provider.Markup));

        provider.Find("#vault-soft-delete-days").Input("30");
        await provider.InvokeAsync(() => provider.Find("[data-testid=vault-properties-save]").Click());
        await provider.WaitForAssertionAsync(async () =>
        {
            await using var db = Database.Factory.CreateDbContext();
            Assert.Equal(30, (await db.Vaults.SingleAsync()).SoftDeleteRetentionDays);
        });
    }
}
