using Bunit;
using Microsoft.EntityFrameworkCore;
using Portal.Components.Pages;
using Portal.Components.Pages.Items;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// Health never flatters (issue 25): an item that was never backed up showed "Healthy, 0 minutes since the latest point,
/// within target 100 %", and the Backup center said every protected item had a point.
/// </summary>
public sealed class ItemHealthTests : ProtectionComponentTest
{
    /// <summary>A protected item with no recovery point, protected at <paramref name="createdAt"/> under DefaultPolicy (daily at 22:30 UTC).</summary>
    private async Task<BackupItem> NeverBackedUpAsync(Portal.Features.Vaults.VaultDetails vault, string name, DateTime createdAt)
    {
        var item = await SeedItemAsync(vault, name, ProtectionState.Protected);
        await using var db = Database.Factory.CreateDbContext();
        await db.BackupItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(x => x.SetProperty(i => i.CreatedAt, createdAt));
        return item;
    }

    [Fact]
    public async Task A_new_item_without_a_point_is_not_backed_up_yet_on_its_page_and_says_when_its_first_backup_is_due()
    {
        var item = await NeverBackedUpAsync(await CreateVaultAsync("legal"), "Contracts", DateTime.UtcNow);
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<ItemDetail>(p => p.Add(c => c.Id, item.Id));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=item-summary]")));
        var chip = page.Find("[data-testid=item-health]");
        Assert.Equal("Not backed up yet", chip.TextContent.Trim());
        Assert.DoesNotContain("Healthy", page.Find("[data-testid=item-summary]").TextContent);
        var rpo = page.Find("[data-testid=item-rpo]").TextContent;
        Assert.StartsWith("No recovery point yet: the first scheduled backup is due ", rpo.Trim());
        Assert.Contains("22:30 UTC", rpo);
        Assert.DoesNotContain("%", rpo);
        Assert.Equal("None yet", page.Find("[data-testid=item-latest-point]").TextContent);
    }

    [Fact]
    public async Task An_item_whose_first_scheduled_backup_passed_without_a_point_is_a_warning_in_the_list_and_needs_attention()
    {
        var vault = await CreateVaultAsync("legal");
        await NeverBackedUpAsync(vault, "missed", DateTime.UtcNow.AddHours(-25)); // a 22:30 has passed since; the 30 h RPO limit not yet
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var home = RenderPage<Home>();
        home.WaitForAssertion(() => Assert.Equal("missed", home.Find("[data-testid=attention-row]").GetAttribute("data-item")));
        Assert.Contains("Not backed up yet, overdue", home.Find("[data-testid=attention-row]").TextContent);
        Assert.Empty(home.FindAll("[data-testid=needs-attention-none]"));
    }

    [Fact]
    public async Task The_items_list_shows_an_overdue_first_backup_as_a_warning()
    {
        await NeverBackedUpAsync(await CreateVaultAsync("legal"), "missed", DateTime.UtcNow.AddHours(-25));
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var list = RenderPage<ItemList>();

        list.WaitForAssertion(() => Assert.Equal("Not backed up yet, overdue", list.Find("[data-testid=item-health]").TextContent.Trim()));
        Assert.Contains("warning", list.Find("[data-testid=item-health]").ClassName);
    }

    [Fact]
    public async Task The_backup_center_never_says_every_item_has_a_point_while_one_waits_for_its_first_backup()
    {
        var vault = await CreateVaultAsync("legal");
        await NeverBackedUpAsync(vault, "new", DateTime.UtcNow);
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<Home>();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=needs-attention-none]")));
        var text = page.Find("[data-testid=needs-attention-none]").TextContent;
        Assert.DoesNotContain("Every protected item has a recovery point", text);
        Assert.Contains("1 item waits for its first scheduled backup", string.Join(" ", text.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal("items?health=NotBackedUpYet", page.Find("[data-testid=needs-attention-waiting]").GetAttribute("href"));
        Assert.Equal("Not backed up yet", page.Find("[data-testid=items-health][data-health=NotBackedUpYet] .mud-typography-caption").TextContent);
        Assert.Empty(page.FindAll("[data-testid=items-health][data-health=Healthy]"));
    }
}
