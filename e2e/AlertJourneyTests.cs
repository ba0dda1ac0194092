using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>
/// A folder disappears: its backup fails, the bell rings with the cause and the next step, and the next backup after the
/// folder returns clears the alert by itself.
/// </summary>
public sealed class AlertJourneyTests
{
    private const string Passphrase = "correct horse battery staple 42!";

    [Fact]
    public async Task A_backup_of_a_missing_folder_rings_the_bell_says_why_and_clears_itself_when_the_folder_returns()
    {
        await using var app = new PortalApp();
        var folder = Directory.CreateDirectory(Path.Combine(app.SourceRoot, "finance")).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "ledger.txt"), "2026 ledger");
        await using var browser = await Browser.StartAsync("alert-journey");
        var page = browser.Page;

        await browser.SignInLocallyAsync(app.BaseUrl, "Carla Contributor", "/vaults");
        await browser.WaitInteractiveAsync();
        await browser.CreateVaultAsync(app.BaseUrl, "finance");
        await page.GetByTestId("protect-folder").ClickAsync();
        await browser.WaitInteractiveAsync();
        await page.FillAsync("#item-name", "finance");
        await page.FillAsync("#item-source", folder);
        await page.FillAsync("#item-passphrase", Passphrase);
        await page.FillAsync("#item-confirm-passphrase", Passphrase);
        await page.GetByTestId("protect-submit").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/items/[0-9a-f-]{36}$"));
        var itemUrl = page.Url;
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("alert-bell-button")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("alert-count-critical")).ToHaveCountAsync(0);

        // The folder goes away; Back up now fails, and the bell counts one critical alert without a reload.
        Directory.Delete(folder, recursive: true);
        await page.GetByTestId("item-backup-now").ClickAsync();
        await page.GetByTestId("backup-now-submit").ClickAsync();
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Failed", new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("alert-count-critical")).ToHaveTextAsync("1 critical");
        await browser.ScreenshotAsync("bell-rings");

        // The Backup center shows the item as failed and lists it first among the items that need someone.
        await page.GotoAsync(app.BaseUrl + "/");
        await browser.WaitInteractiveAsync();
        await Expect(page.Locator("[data-testid=items-health][data-health=Failed] a")).ToHaveTextAsync("1");
        await Expect(page.Locator("[data-testid=attention-row][data-item=finance]")).ToContainTextAsync("Failed");
        await browser.ScreenshotAsync("backup-center-red");
        await page.Locator("[data-testid=items-health][data-health=Failed] a").ClickAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/items?health=Failed");
        await Expect(page.GetByTestId("item-link")).ToHaveTextAsync(["finance"]);

        // The Alerts page says what happened (with the path) and what to do.
        await page.GetByTestId("alert-bell-button").ClickAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/alerts");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("alert-row")).ToContainTextAsync("Backup of 'finance' failed");
        await Expect(page.GetByTestId("alert-cause")).ToContainTextAsync(folder);
        await Expect(page.GetByTestId("alert-next-step")).ToContainTextAsync("run Back up now on 'finance'");
        await Expect(page.GetByTestId("alert-acknowledge")).ToBeEnabledAsync(); // enabled once the circuit is live
        await page.GetByTestId("alert-acknowledge").ClickAsync();
        await Expect(page.GetByTestId("alert-row-state")).ToHaveTextAsync("Active, acknowledged by Carla Contributor");
        await browser.ScreenshotAsync("alerts-page");

        // The folder is back: the next backup succeeds and the alert resolves itself.
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "ledger.txt"), "2026 ledger, restored");
        await page.GotoAsync(itemUrl);
        await browser.WaitInteractiveAsync();
        await page.GetByTestId("item-backup-now").ClickAsync();
        await page.GetByTestId("backup-now-submit").ClickAsync();
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("alert-count-critical")).ToHaveCountAsync(0);
        await page.GotoAsync(app.BaseUrl + "/alerts");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("alerts-empty")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("alert-cleared");

        // Back to green on the Backup center; the job report counts the failure and the success of today.
        await page.GotoAsync(app.BaseUrl + "/");
        await browser.WaitInteractiveAsync();
        await Expect(page.Locator("[data-testid=items-health][data-health=Healthy] a")).ToHaveTextAsync("1");
        await Expect(page.Locator("[data-testid=items-health][data-health=Failed]")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("needs-attention-none")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("backup-center-green");
        var csv = await page.APIRequest.GetAsync(app.BaseUrl + "/reports/jobs.csv");
        Assert.Equal(200, csv.Status);
        // The vault's DefaultPolicy backs up daily at 22:30 UTC: a run of this test across that time sees that backup too.
        var row = (await csv.TextAsync()).Split('\n').Single(l => l.StartsWith($"{DateTime.UtcNow:yyyy-MM-dd},Backup,")).Trim().Split(',');
        var (total, completed, failed) = (int.Parse(row[2]), int.Parse(row[3]), int.Parse(row[5]));
        Assert.True(failed >= 1 && completed >= 1, string.Join(',', row));
        Assert.Equal(total, row[3..8].Sum(int.Parse));
        if (total == 2) Assert.Equal("2,1,0,1,0,0,0.5", string.Join(',', row[2..]));
    }
}
