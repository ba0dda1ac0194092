using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages.Restore;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The restore wizard's steps and their validation, on a real recovery point.</summary>
public sealed class RestoreWizardTests : ProtectionComponentTest
{
    /// <summary>A vault with an item "share" and one real recovery point of it.</summary>
    private async Task<BackupItem> SeedPointAsync()
    {
        var vault = await CreateVaultAsync("legal");
        Directory.CreateDirectory(Path.Combine(SourceRoot, "share"));
        File.WriteAllText(Path.Combine(SourceRoot, "share", "contract.txt"), "signed");
        Directory.CreateDirectory(Path.Combine(SourceRoot, "share", "docs", "adduser", "examples"));
        File.WriteAllText(Path.Combine(SourceRoot, "share", "docs", "adduser", "examples", "Readme.TXT"), "how to add a user");
        File.WriteAllBytes(Path.Combine(SourceRoot, "share", "photo.bin"), [0x89, 0x50, 0x00, 0x47]);
        await using (var db = Database.Factory.CreateDbContext())
            await Context.Services.GetRequiredService<VaultKeys>().UnlockAsync(await db.Vaults.SingleAsync(), "correct horse battery staple", "Setup");
        var item = await SeedItemAsync(vault, "share", ProtectionState.Protected);
        await Context.Services.GetRequiredService<Backups>().RunScheduledAsync(item.Id, CancellationToken.None);
        return item;
    }

    private IRenderedComponent<RestoreWizard> OpenAtFiles(string role)
    {
        SignIn(TestUsers.WithRoles("Helen", role));
        var page = RenderPage<RestoreWizard>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=restore-item]")));
        page.Find("[data-testid=restore-item]").Click();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=restore-point]")));
        page.Find("[data-testid=restore-point]").Click();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=restore-entry]")));
        return page;
    }

    [Fact]
    public void A_reader_is_told_that_restoring_needs_a_role()
    {
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<RestoreWizard>();
        page.WaitForAssertion(() => Assert.Contains("needs the Restore.Operator", page.Find("[data-testid=restore-not-allowed]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=restore-wizard]"));
    }

    [Fact]
    public async Task Files_must_be_selected_before_next_and_a_restore_operator_cannot_overwrite_the_original_location()
    {
        await SeedPointAsync();
        var page = OpenAtFiles(PortalRoles.RestoreOperator);

        Assert.True(page.Find("[data-testid=restore-next]").HasAttribute("disabled"));
        page.Find("[data-testid=restore-entry] input[type=checkbox]").Change(true);
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=restore-next]").HasAttribute("disabled")));
        page.Find("[data-testid=restore-next]").Click();

        page.WaitForAssertion(() => Assert.Contains("needs Backup.Operator", page.Find("[data-testid=restore-conflict]").TextContent));
        var options = page.FindAll("[data-testid=restore-conflict] input"); // copy, skip, overwrite
        Assert.Equal(3, options.Count);
        Assert.True(options[2].HasAttribute("disabled"));
        Assert.False(options[0].HasAttribute("disabled"));
    }

    [Fact]
    public async Task An_alternate_folder_outside_the_restore_roots_is_refused_at_its_field_and_no_job_starts()
    {
        await SeedPointAsync();
        var page = OpenAtFiles(PortalRoles.RestoreOperator);
        page.Find("[data-testid=restore-entry] input[type=checkbox]").Change(true);
        page.WaitForAssertion(() => page.Find("[data-testid=restore-next]").Click());
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=restore-destination] input")));
        page.FindAll("[data-testid=restore-destination] input")[1].Click();
        page.WaitForAssertion(() => page.Find("#restore-alternate-path").Change("/etc/portal-restore"));
        page.Find("[data-testid=restore-next]").Click();

        page.WaitForAssertion(() => Assert.Contains("is outside the folders restores may write to", page.Markup));
        Assert.Empty(page.FindAll("[data-testid=restore-summary]"));
        await using var db = Database.Factory.CreateDbContext();
        Assert.Equal(0, await db.Jobs.CountAsync(j => j.Kind == Portal.Features.Jobs.JobKind.Restore));
    }

    private static string Current(IRenderedComponent<RestoreWizard> page) => page.Find("[data-testid=restore-crumb-current]").TextContent.Trim();

    private static string[] Shown(IRenderedComponent<RestoreWizard> page) =>
        [.. page.FindAll("[data-testid=restore-entry]").Select(e => e.GetAttribute("data-path") ?? "")];

    [Fact]
    public async Task Folders_open_and_close_by_entry_breadcrumb_and_up_without_leaving_the_wizard()
    {
        await SeedPointAsync();
        var page = OpenAtFiles(PortalRoles.RestoreOperator);
        Assert.Equal("share", Current(page));
        Assert.True(page.Find("[data-testid=restore-up]").HasAttribute("disabled")); // the item's folder has no "up"

        page.Find("[data-testid=restore-entry][data-path=docs] [data-testid=restore-entry-open]").Click();
        page.WaitForAssertion(() => Assert.Equal("docs", Current(page)));
        page.Find("[data-testid=restore-entry][data-path='docs/adduser'] [data-testid=restore-entry-open]").Click();
        page.WaitForAssertion(() => Assert.Equal("adduser", Current(page)));
        page.Find("[data-testid=restore-entry][data-path='docs/adduser/examples'] [data-testid=restore-entry-open]").Click();
        page.WaitForAssertion(() => Assert.Equal(["docs/adduser/examples/Readme.TXT"], Shown(page)));

        // Regression (issue 25): the breadcrumbs linked to "/#" and left the wizard for the Backup center.
        Assert.Empty(page.FindAll("[data-testid=restore-path] a[href]"));
        Assert.Equal(["", "docs", "docs/adduser"], page.FindAll("[data-testid=restore-crumb]").Select(c => c.GetAttribute("data-path")));
        page.Find("[data-testid=restore-crumb][data-path=docs]").Click();
        page.WaitForAssertion(() => Assert.Equal("docs", Current(page)));
        Assert.Equal(["docs/adduser"], Shown(page));

        page.Find("[data-testid=restore-up]").Click();
        page.WaitForAssertion(() => Assert.Equal("share", Current(page)));
        Assert.Equal(["docs", "contract.txt", "photo.bin"], Shown(page));
        Assert.NotEmpty(page.FindAll("[data-testid=restore-wizard]"));
    }

    [Fact]
    public async Task Search_ignores_case_and_says_when_nothing_matches()
    {
        await SeedPointAsync();
        var page = OpenAtFiles(PortalRoles.RestoreOperator);

        page.Find("#restore-file-search").Change("readme.txt");
        page.Find("[data-testid=restore-file-search-go]").Click();
        page.WaitForAssertion(() => Assert.Equal(["docs/adduser/examples/Readme.TXT"], Shown(page)));
        Assert.Contains("1 match for “readme.txt”", page.Find("[data-testid=restore-search-count]").TextContent);

        page.Find("#restore-file-search").Change("invoice");
        page.Find("[data-testid=restore-file-search-go]").Click();
        page.WaitForAssertion(() => Assert.Contains("Nothing in this recovery point matches “invoice”", page.Find("[data-testid=restore-search-none]").TextContent));
        Assert.Empty(Shown(page));

        page.Find("[data-testid=restore-search-clear]").Click();
        page.WaitForAssertion(() => Assert.Equal(["docs", "contract.txt", "photo.bin"], Shown(page)));
    }

    [Fact]
    public async Task A_search_that_stops_at_its_limit_says_so()
    {
        Directory.CreateDirectory(Path.Combine(SourceRoot, "share", "scans"));
        for (var i = 0; i < 501; i++)
            File.WriteAllText(Path.Combine(SourceRoot, "share", "scans", $"scan-{i:D3}.txt"), "x");
        await SeedPointAsync();
        var page = OpenAtFiles(PortalRoles.RestoreOperator);

        page.Find("#restore-file-search").Change("SCAN-");
        page.Find("[data-testid=restore-file-search-go]").Click();
        page.WaitForAssertion(() => Assert.Contains("Showing the first 500 matches for “SCAN-”; more files match", page.Find("[data-testid=restore-search-limit]").TextContent));
        Assert.Equal(500, Shown(page).Length);
    }

    [Fact]
    public async Task A_failed_preview_clears_the_previous_files_preview_and_the_first_point_marks_nothing_changed()
    {
        await SeedPointAsync();
        var page = OpenAtFiles(PortalRoles.RestoreOperator);
        Assert.Empty(page.FindAll("[data-testid=restore-entry-changed]")); // regression (issue 25): every folder was "changed"
        Assert.Contains("first recovery point", page.Find("[data-testid=restore-region]").TextContent);

        page.Find("[data-testid=restore-entry][data-path='contract.txt'] [data-testid=restore-entry-preview]").Click();
        page.WaitForAssertion(() => Assert.Contains("signed", page.Find("[data-testid=restore-preview]").TextContent));
        page.Find("[data-testid=restore-entry][data-path='photo.bin'] [data-testid=restore-entry-preview]").Click();
        page.WaitForAssertion(() => Assert.Contains("photo.bin is not a text file", page.Find("[data-testid=restore-file-error]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=restore-preview]"));
    }

    [Fact]
    public async Task Points_are_newest_first_in_words_with_a_latest_shortcut_read_from_the_primary_region()
    {
        var item = await SeedPointAsync();
        File.WriteAllText(Path.Combine(SourceRoot, "share", "contract.txt"), "signed, amended");
        await Context.Services.GetRequiredService<Backups>().RunOnDemandAsync(item.Id, DateTime.UtcNow.AddDays(30), "Helen", CancellationToken.None);
        await using (var db = Database.Factory.CreateDbContext())
            Assert.Equal(2, await db.RecoveryPoints.CountAsync(p => p.ItemId == item.Id));
        SignIn(TestUsers.WithRoles("Helen", PortalRoles.RestoreOperator));
        var page = RenderPage<RestoreWizard>();
        page.WaitForAssertion(() => page.Find("[data-testid=restore-item]").Click());
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=restore-point]").Count));

        var points = page.FindAll("[data-testid=restore-point]");
        Assert.Contains("On demand", points[0].TextContent); // the newest first, in words (it said "OnDemand")
        Assert.Contains("Latest", points[0].TextContent);
        Assert.Contains("Scheduled", points[1].TextContent);
        Assert.DoesNotContain("OnDemand", page.Markup);
        Assert.Empty(page.FindAll("[data-testid=restore-point-region]")); // one region: nothing to choose

        page.Find("[data-testid=restore-point-latest]").Click();
        page.WaitForAssertion(() => Assert.Contains("from region east", page.Find("[data-testid=restore-region]").TextContent));
        Assert.DoesNotContain("first recovery point", page.Find("[data-testid=restore-region]").TextContent);
        page.WaitForAssertion(() => Assert.Equal(["contract.txt"],
            page.FindAll("[data-testid=restore-entry-changed]").Select(c => c.Closest("[data-testid=restore-entry]")!.GetAttribute("data-path"))));
    }

    [Fact]
    public async Task Each_step_moves_the_focus_to_its_first_control_and_checkboxes_and_icon_buttons_have_names()
    {
        await SeedPointAsync();
        var page = OpenAtFiles(PortalRoles.RestoreOperator);
        // The point step and then the files step each moved the focus into themselves once shown.
        Assert.Equal(2, Context.JSInterop.Invocations["portal.focusFirst"].Count);

        var box = page.Find("[data-testid=restore-entry][data-path='contract.txt'] input[type=checkbox]");
        Assert.Equal("Select contract.txt to restore", page.Find($"#{box.GetAttribute("aria-labelledby")}").TextContent.Trim());
        Assert.Equal("Up one folder", page.Find("[data-testid=restore-up]").GetAttribute("aria-label"));

        box.Change(true);
        page.WaitForAssertion(() => page.Find("[data-testid=restore-next]").Click());
        page.WaitForAssertion(() => Assert.Equal(3, Context.JSInterop.Invocations["portal.focusFirst"].Count));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=restore-destination] input")));
        page.Find("[data-testid=restore-next]").Click();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=restore-start]")));
        page.WaitForAssertion(() => Assert.Equal("[data-testid=restore-start]", Context.JSInterop.Invocations["portal.focusFirst"][^1].Arguments[1]));
    }

    [Fact]
    public async Task Restore_files_from_the_item_page_opens_the_wizard_at_that_items_points()
    {
        var item = await SeedPointAsync();
        await SeedItemAsync(await CreateVaultAsync("hr"), "payroll", ProtectionState.Protected);
        SignIn(TestUsers.WithRoles("Helen", PortalRoles.RestoreOperator));
        Context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo($"restore?item={item.Id}");

        var page = RenderPage<RestoreWizard>();

        // Regression (issue 25): the link's item was ignored and the wizard started at "find the item".
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=restore-point]")));
        page.Find("[data-testid=restore-point]").Click();
        page.WaitForAssertion(() => Assert.Contains("contract.txt", string.Join(",", Shown(page))));
        Assert.DoesNotContain("payroll", page.Markup); // the other item is not offered: this one is chosen
    }

    [Fact]
    public async Task A_database_in_the_item_step_says_it_opens_its_own_restore_page_and_is_a_link_to_it()
    {
        var vault = await CreateVaultAsync("sales");
        var item = await SeedItemAsync(vault, "Shop", ProtectionState.Protected);
        await using (var db = Database.Factory.CreateDbContext())
        {
            var row = await db.BackupItems.SingleAsync(i => i.Id == item.Id);
            (row.Kind, row.DatabaseHost, row.DatabasePort, row.DatabaseName, row.DatabaseUser) = (BackupItemKinds.PostgreSql, "db1", 5432, "shop", "backup");
            await db.SaveChangesAsync();
        }

        SignIn(TestUsers.WithRoles("Helen", PortalRoles.RestoreOperator));
        var navigation = Context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        navigation.NavigateTo($"restore?item={item.Id}");
        var page = RenderPage<RestoreWizard>();

        // Opened for a database, the wizard stays and says where a database is restored (it jumped away unasked).
        page.WaitForAssertion(() => Assert.Contains("Shop is a database: it is restored as a whole from its own page", page.Find("[data-testid=restore-error]").TextContent));
        Assert.EndsWith($"restore?item={item.Id}", navigation.Uri);
        // The item step loads its list by itself, after or before the wizard's message: wait for the entry too.
        page.WaitForAssertion(() =>
        {
            var entry = page.Find("[data-testid=restore-item-database]");
            Assert.Contains("opens Restore database", entry.TextContent);
            Assert.EndsWith($"items/{item.Id}/restore-database", entry.QuerySelector("a")?.GetAttribute("href") ?? entry.GetAttribute("href"));
        });
    }
}
