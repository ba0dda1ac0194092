using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>
/// Issue 22's restore drills end to end: an operator sets an item's drill schedule, runs a drill now, and the Backup
/// center shows the item as proven recoverable.
/// </summary>
public sealed class DrillJourneyTests
{
    private const string Passphrase = "correct horse battery staple 42!";

    [Fact]
    public async Task An_operator_sets_a_drill_schedule_runs_a_drill_now_and_sees_the_item_proven_recoverable_on_the_backup_center()
    {
        await using var app = new PortalApp();
        var docs = Directory.CreateDirectory(Path.Combine(app.SourceRoot, "docs")).FullName;
        for (var i = 0; i < 5; i++)
            await File.WriteAllTextAsync(Path.Combine(docs, $"contract-{i}.txt"), $"contract {i} " + new string('x', 1000 * i));
        await using var browser = await Browser.StartAsync("drill-journey");
        var page = browser.Page;

        // A contributor protects a folder and backs it up once.
        await browser.SignInLocallyAsync(app.BaseUrl, "Carla Contributor", "/vaults");
        await browser.WaitInteractiveAsync();
        await browser.CreateVaultAsync(app.BaseUrl, "legal");
        await page.GotoAsync(app.BaseUrl + "/vaults/legal/protect");
        await browser.WaitInteractiveAsync();
        await page.FillAsync("#item-name", "Contracts");
        await page.FillAsync("#item-source", docs);
        await page.FillAsync("#item-passphrase", Passphrase);
        await page.FillAsync("#item-confirm-passphrase", Passphrase);
        await page.GetByTestId("protect-submit").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/items/[0-9a-f-]{36}$"));
        var itemUrl = page.Url;
        await browser.WaitInteractiveAsync();
        await page.GetByTestId("item-backup-now").ClickAsync();
        await page.GetByTestId("backup-now-submit").ClickAsync();
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });

        // An operator gives the item its own drill schedule (weekly, the whole point, by default).
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await browser.SignInLocallyAsync(app.BaseUrl, "Olga Operator", new Uri(itemUrl).AbsolutePath, "#role-operator");
        await Expect(page).ToHaveURLAsync(itemUrl);
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("item-proven")).ToHaveTextAsync("Never proven recoverable: no drill of this item has passed yet.");
        await Expect(page.GetByTestId("item-drill-schedule")).ToContainTextAsync("Off: this item is not drilled on a schedule");
        await page.GetByTestId("item-drill-own").GetByText("Own schedule").ClickAsync();
        await page.FillAsync("#drill-rto", "60");
        await page.GetByTestId("item-drill-schedule-save").ClickAsync();
        await Expect(page.GetByTestId("item-drill-schedule")).ToContainTextAsync("Weekly on Sunday at 03:00 UTC, whole, RTO target 1 h 0 min, as set on the item by Olga Operator.");
        await Expect(page.GetByTestId("item-drill-schedule")).ToContainTextAsync("Next drill");
        await browser.ScreenshotAsync("drill-schedule-set");

        // Run it now: the job passes, and the item says what it proved.
        await page.GetByTestId("item-drill-now").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/jobs/[0-9a-f-]{36}$"));
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
        await page.GotoAsync(itemUrl);
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("item-proven")).ToContainTextAsync("Last proven recoverable: point");
        await Expect(page.GetByTestId("item-proven")).ToContainTextAsync("(target 1 h 0 min)");

        // The Backup center: proven recoverable, within its RTO target.
        await page.GotoAsync(app.BaseUrl + "/");
        await browser.WaitInteractiveAsync();
        var row = page.Locator("tr", new() { Has = page.Locator("[data-testid=recoverability-row][data-item=Contracts]") });
        await Expect(row.GetByTestId("recoverability-status")).ToHaveTextAsync("Proven recoverable");
        await Expect(row.GetByTestId("recoverability-rto")).ToContainTextAsync("(met)");
        await Expect(page.Locator("[data-testid=recoverability-vault][data-vault=legal]")).ToContainTextAsync("1 of 1");
        await browser.ScreenshotAsync("proven-recoverable");
    }
}
