using Microsoft.Extensions.DependencyInjection;
using Bunit;
using Portal.Components.Pages.Items;
using Portal.Components.Pages.Vaults;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The backup items list across vaults, and the same list on a vault's page.</summary>
public sealed class ItemListTests : ProtectionComponentTest
{
    [Fact]
    public async Task The_list_shows_the_items_of_every_vault_with_their_health_and_search_narrows_it()
    {
        var legal = await CreateVaultAsync("legal");
        var payroll = await CreateVaultAsync("payroll");
        await SeedItemAsync(legal, "Contracts", ProtectionState.ProtectionStopped);
        await SeedItemAsync(payroll, "Salaries", ProtectionState.SoftDeleted);
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<ItemList>();

        page.WaitForAssertion(() => Assert.Equal(["Contracts", "Salaries"], page.FindAll("[data-testid=item-link]").Select(a => a.TextContent)));
        Assert.Equal(["Protection stopped", "Soft-deleted"], page.FindAll("[data-testid=item-health]").Select(c => c.TextContent.Trim()));

        page.Find("#item-search").Input("sal");

        page.WaitForAssertion(() => Assert.Equal(["Salaries"], page.FindAll("[data-testid=item-link]").Select(a => a.TextContent)));
    }

    [Fact]
    public async Task A_vault_page_lists_only_its_own_items()
    {
        var legal = await CreateVaultAsync("legal");
        await SeedItemAsync(legal, "Contracts", ProtectionState.Protected);
        await SeedItemAsync(await CreateVaultAsync("payroll"), "Salaries", ProtectionState.Protected);
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "legal"));

        page.WaitForAssertion(() => Assert.Equal(["Contracts"], page.FindAll("[data-testid=item-link]").Select(a => a.TextContent)));
    }

    [Fact]
    public async Task A_health_link_opens_the_list_filtered_to_that_health()
    {
        var legal = await CreateVaultAsync("legal");
        var failing = await SeedItemAsync(legal, "Failing", ProtectionState.Protected);
        await SeedItemAsync(legal, "Stopped", ProtectionState.ProtectionStopped);
        await using (var db = Database.Factory.CreateDbContext())
            await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ExecuteUpdateAsync(db.BackupItems.Where(i => i.Id == failing.Id),
                x => x.SetProperty(i => i.LastBackupStatus, Portal.Features.Jobs.JobStatus.Failed));
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        Context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo("items?health=Failed");

        var page = RenderPage<ItemList>();

        page.WaitForAssertion(() => Assert.Equal(["Failing"], page.FindAll("[data-testid=item-link]").Select(a => a.TextContent)));
        Assert.Equal("Failed", page.Find("[data-testid=item-health]").TextContent.Trim());
    }
}
