using Bunit;
using Microsoft.EntityFrameworkCore;
using MudBlazor;
using Portal.Components.Pages.Items;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The item page's Edit dialog (issue 25: an operator could not change an item once it was protected).</summary>
public sealed class ItemEditDialogTests : ProtectionComponentTest
{
    [Fact]
    public async Task An_operator_moves_the_folder_is_warned_of_an_overlapping_item_sees_the_scripts_locked_and_the_page_shows_the_new_folder()
    {
        var vault = await CreateVaultAsync("legal");
        var item = await SeedItemAsync(vault, "Contracts", ProtectionState.Protected);
        var archive = Path.Combine(SourceRoot, "archive");
        Directory.CreateDirectory(Path.Combine(archive, "docs"));
        var docs = await SeedItemAsync(vault, "Docs", ProtectionState.Protected);
        await using (var db = Database.Factory.CreateDbContext())
            await db.BackupItems.Where(i => i.Id == docs.Id).ExecuteUpdateAsync(x => x.SetProperty(i => i.SourcePath, Path.Combine(archive, "docs")));
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var page = RenderPage<ItemDetail>(p => p.Add(c => c.Id, item.Id));
        var dialogs = Context.Render<MudDialogProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=item-edit]")));

        await ClickAsync(page, "[data-testid=item-edit]");
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("#edit-source")));
        Assert.Contains("Only a Backup.Contributor may change them", dialogs.Find("[data-testid=edit-scripts-locked]").TextContent);
        Assert.Empty(dialogs.FindAll("#item-pre-script"));
        Assert.Empty(dialogs.FindAll("[data-testid=item-overlap]"));

        await dialogs.InvokeAsync(() => dialogs.Find("#edit-source").Input(archive));
        dialogs.WaitForAssertion(() => Assert.Equal($"Docs (vault legal) protects {Path.Combine(archive, "docs")}, inside {archive}.",
            dialogs.Find("[data-testid=item-overlap-row]").TextContent));
        await dialogs.InvokeAsync(() => dialogs.Find("#edit-exclude").Change("docs/**"));
        await ClickAsync(dialogs, "[data-testid=item-edit-save]");

        page.WaitForAssertion(() => Assert.Equal(archive, page.Find("[data-testid=item-folder]").TextContent));
        Assert.Empty(dialogs.FindAll("[data-testid=item-edit-dialog]"));
        Assert.Contains("docs/**", page.Find("[data-testid=item-summary]").TextContent);
    }

    [Fact]
    public async Task A_folder_outside_the_allowed_roots_is_refused_under_the_field_and_the_dialog_keeps_what_was_typed()
    {
        var item = await SeedItemAsync(await CreateVaultAsync("legal"), "Contracts", ProtectionState.Protected);
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        var page = RenderPage<ItemDetail>(p => p.Add(c => c.Id, item.Id));
        var dialogs = Context.Render<MudDialogProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=item-edit]")));

        await ClickAsync(page, "[data-testid=item-edit]");
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("#edit-source")));
        Assert.NotEmpty(dialogs.FindAll("#item-pre-script")); // a contributor may change the scripts
        await dialogs.InvokeAsync(() => dialogs.Find("#edit-source").Input("/etc"));
        await ClickAsync(dialogs, "[data-testid=item-edit-save]");

        dialogs.WaitForAssertion(() => Assert.Contains("outside the folders", dialogs.Find("[data-testid=item-edit-dialog]").TextContent));
        Assert.Equal("/etc", dialogs.Find("#edit-source").GetAttribute("value"));
        Assert.Empty(dialogs.FindAll("[data-testid=item-edit-error]")); // said under the field, not twice
        Assert.Equal(item.SourcePath, page.Find("[data-testid=item-folder]").TextContent);
    }

    [Theory]
    [InlineData(PortalRoles.Reader, false, false)]
    [InlineData(PortalRoles.RestoreOperator, false, true)]
    [InlineData(PortalRoles.Operator, true, true)]
    public async Task A_files_item_with_a_point_offers_restore_files_to_restorers_and_edit_to_protectors(string role, bool edit, bool restore)
    {
        var item = await SeedItemAsync(await CreateVaultAsync("legal"), "Contracts", ProtectionState.Protected);
        await using (var db = Database.Factory.CreateDbContext())
        {
            db.RecoveryPoints.Add(new RecoveryPoint
            {
                Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = item.VaultId, SnapshotId = new string('a', 64), CreatedAt = DateTime.UtcNow.AddHours(-1), Bytes = 10,
            });
            await db.SaveChangesAsync();
        }

        SignIn(TestUsers.WithRoles("Someone", role));
        var page = RenderPage<ItemDetail>(p => p.Add(c => c.Id, item.Id));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=item-summary]")));

        Assert.Equal(edit, page.FindAll("[data-testid=item-edit]").Count == 1);
        Assert.Equal(restore, page.FindAll("[data-testid=item-restore-files]").Count == 1);
        if (restore)
            Assert.Equal($"restore?item={item.Id}", page.Find("[data-testid=item-restore-files]").GetAttribute("href"));
    }
}
