using Bunit;
using Portal.Components.Pages.Items;
using Portal.Features.Drills;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The item page's restore drills: "last proven recoverable" from the last passing drill, a failed last drill in red.</summary>
public sealed class ItemDrillPanelTests : ProtectionComponentTest
{
    private async Task<BackupItem> ItemWithDrillsAsync(params (DrillResult Result, int DaysAgo)[] drills)
    {
        var item = await SeedItemAsync(await CreateVaultAsync("legal"), "Contracts", ProtectionState.Protected);
        await using var db = Database.Factory.CreateDbContext();
        foreach (var (result, daysAgo) in drills)
            db.RecoveryDrills.Add(new RecoveryDrill
            {
                Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = item.VaultId, SnapshotId = new string('a', 56) + $"{daysAgo:D8}",
                PointCreatedAt = new DateTime(2026, 12, 1, 2, 0, 0, DateTimeKind.Utc).AddDays(-daysAgo),
                StartedAt = new DateTime(2026, 12, 1, 3, 0, 0, DateTimeKind.Utc).AddDays(-daysAgo),
                FinishedAt = new DateTime(2026, 12, 1, 3, 1, 0, DateTimeKind.Utc).AddDays(-daysAgo),
                Result = result, FilesVerified = result == DrillResult.Passed ? 1200 : 0, BytesVerified = result == DrillResult.Passed ? 5L << 20 : 0,
                FilesInPoint = 1200, BytesInPoint = 5L << 20, RestoreSeconds = 75, EstimatedFullRestoreSeconds = 75,
                Detail = result == DrillResult.Passed ? "fine" : "docs/q3.pptx: not restored.", RequestedBy = "Ann",
            });
        await db.SaveChangesAsync();
        return item;
    }

    [Fact]
    public async Task The_last_passing_drill_is_shown_as_proof_and_a_failed_last_drill_is_shown_with_its_cause()
    {
        var item = await ItemWithDrillsAsync((DrillResult.Passed, 3), (DrillResult.Failed, 0));
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));

        var panel = RenderPage<ItemDrillPanel>(p => p.Add(c => c.ItemId, item.Id).Add(c => c.Drillable, true));

        panel.WaitForAssertion(() => Assert.NotEmpty(panel.FindAll("[data-testid=item-proven]")));
        var proven = System.Text.RegularExpressions.Regex.Replace(panel.Find("[data-testid=item-proven]").TextContent, @"\s+", " ").Trim();
        Assert.Contains("Last proven recoverable: point aaaaaaaa (taken 2026-11-28 02:00", proven);
        Assert.Contains("at 2026-11-28 03:01 UTC, full restore estimated 1 min 15 s (no RTO target). 1,200 file(s), 5.2 MB restored and verified (whole).", proven);
        Assert.Contains("failed: docs/q3.pptx: not restored.", System.Text.RegularExpressions.Regex.Replace(panel.Find("[data-testid=item-drill-failed]").TextContent, @"\s+", " "));
        Assert.Single(panel.FindAll("[data-testid=item-drill-now]"));
    }

    [Theory]
    [InlineData(PortalRoles.Reader)]
    [InlineData(PortalRoles.RestoreOperator)]
    public async Task Never_drilled_says_so_and_only_those_who_protect_may_run_a_drill(string role)
    {
        var item = await ItemWithDrillsAsync();
        SignIn(TestUsers.WithRoles("Someone", role));

        var panel = RenderPage<ItemDrillPanel>(p => p.Add(c => c.ItemId, item.Id).Add(c => c.Drillable, true));

        panel.WaitForAssertion(() => Assert.Equal("Never proven recoverable: no drill of this item has passed yet.", panel.Find("[data-testid=item-proven]").TextContent.Trim()));
        Assert.Empty(panel.FindAll("[data-testid=item-drill-now]"));
    }

    [Fact]
    public async Task A_database_items_check_query_is_set_in_the_panel_and_a_second_statement_is_refused_in_words()
    {
        var item = await ItemWithDrillsAsync();
        await using (var db = Database.Factory.CreateDbContext())
        {
            var row = await db.BackupItems.FindAsync(item.Id);
            row!.Kind = BackupItemKinds.PostgreSql;
            await db.SaveChangesAsync();
        }
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var panel = RenderPage<ItemDrillPanel>(p => p.Add(c => c.ItemId, item.Id).Add(c => c.Drillable, true));
        panel.WaitForAssertion(() => Assert.Contains("None: a drill restores the database and drops it again.", panel.Find("[data-testid=item-drill-check-query]").TextContent));

        panel.Find("#item-drill-check-query-input").Input("select 1; drop table orders");
        await ClickAsync(panel, "[data-testid=item-drill-check-query-save]");
        panel.WaitForAssertion(() => Assert.Contains("The check query must be one statement", panel.Markup));

        panel.Find("#item-drill-check-query-input").Input("select count(*) from orders");
        await ClickAsync(panel, "[data-testid=item-drill-check-query-save]");
        panel.WaitForAssertion(() => Assert.Contains("Each drill runs \"select count(*) from orders\" on the restored copy", panel.Find("[data-testid=item-drill-check-query]").TextContent));
        Assert.DoesNotContain("The check query must be one statement", panel.Markup);
    }
}
