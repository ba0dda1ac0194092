using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Components;
using Portal.Components.Pages;
using Portal.Components.Pages.BackupCenter;
using Portal.Components.Pages.Reports;
using Portal.Features.Protection;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

public sealed class ReportsPageTests : ProtectionComponentTest
{
    [Fact]
    public async Task Reports_cover_the_last_30_days_with_today_and_offer_each_as_csv()
    {
        await SeedVaultsAsync(1);
        var jobs = Context.Services.GetRequiredService<JobService>();
        var done = await jobs.StartAsync(JobKind.Backup, null, "vault-001", "share", "portal");
        await jobs.FinishAsync(done.Id, JobStatus.Completed);
        var failed = await jobs.StartAsync(JobKind.Backup, null, "vault-001", "share", "portal");
        await jobs.FinishAsync(failed.Id, JobStatus.Failed, "source missing");
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<ReportsPage>();

        page.WaitForAssertion(() => Assert.Equal("50%", page.Find("[data-testid=report-success-rate]").TextContent));
        var today = DateTime.UtcNow;
        Assert.Equal($"/reports/jobs.csv?from={today.AddDays(-29):yyyy-MM-dd}&to={today:yyyy-MM-dd}",
            page.Find("[data-testid=csv-link]").GetAttribute("href"));
    }

    /// <summary>
    /// Issue 25 (session 16): the Backup center's Recoverability card said "Reports lists them all" while the Reports tab
    /// showed the same ten items. The card shows ten and links to the tab, which pages through every item.
    /// </summary>
    [Fact]
    public async Task The_recoverability_card_shows_ten_items_and_links_to_the_reports_tab_that_lists_every_one()
    {
        var vault = await CreateVaultAsync("legal");
        for (var i = 1; i <= 12; i++)
            await SeedItemAsync(vault, $"share-{i:00}", ProtectionState.Protected);
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var home = RenderPage<Home>();
        home.WaitForAssertion(() => Assert.Equal(10, home.FindAll("[data-testid=recoverability-row]").Count));
        var more = home.Find("[data-testid=recoverability-more]");
        Assert.Contains("The 10 least proven of 12 protected items", more.TextContent);
        var link = more.QuerySelector("a")!;
        Assert.Equal("All 12 on Reports, RPO and RTO compliance", link.TextContent.Trim());
        Assert.Equal(RecoverabilityCard.AllItemsHref, link.GetAttribute("href"));

        var navigation = Context.Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo(link.GetAttribute("href")!);
        var reports = RenderPage<ReportsPage>();
        reports.WaitForAssertion(() => Assert.Equal(12, reports.FindAll("[data-testid=recoverability-row]").Count));
        Assert.Equal(Enumerable.Range(1, 12).Select(i => $"share-{i:00}"),
            reports.FindAll("[data-testid=recoverability-row]").Select(r => r.GetAttribute("data-item")).Order());
        Assert.Empty(reports.FindAll("[data-testid=recoverability-more]")); // every item is here: nothing to link to
    }
}
