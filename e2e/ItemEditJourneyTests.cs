using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>
/// An operator changes a protected item (issue 25: it could not be edited once protected), is warned of an overlapping
/// item on the same host, and the next backup reads the new folder; an item never backed up does not show as healthy.
/// </summary>
public sealed class ItemEditJourneyTests
{
    private const string Passphrase = "correct horse battery staple 42!";

    [Fact]
    public async Task An_operator_moves_an_items_folder_is_warned_of_the_overlap_and_the_next_backup_reads_the_new_folder()
    {
        await using var app = new PortalApp();
        var data = Directory.CreateDirectory(Path.Combine(app.SourceRoot, "data")).FullName;
        var docs = Directory.CreateDirectory(Path.Combine(data, "docs")).FullName;
        var old = Directory.CreateDirectory(Path.Combine(app.SourceRoot, "old")).FullName;
        await File.WriteAllTextAsync(Path.Combine(docs, "handbook.txt"), "handbook");
        await File.WriteAllTextAsync(Path.Combine(data, "ledger.txt"), "ledger");
        await File.WriteAllTextAsync(Path.Combine(old, "stale.txt"), "stale");
        await using var browser = await Browser.StartAsync("item-edit-journey");
        var page = browser.Page;

        // A contributor protects two folders: "Docs" (data/docs) and "Share" (old).
        await browser.SignInLocallyAsync(app.BaseUrl, "Carla Contributor", "/vaults");
        await browser.WaitInteractiveAsync();
        await browser.CreateVaultAsync(app.BaseUrl, "legal");
        foreach (var (name, folder) in new[] { ("Docs", docs), ("Share", old) })
        {
            await page.GotoAsync(app.BaseUrl + "/vaults/legal/protect");
            await browser.WaitInteractiveAsync();
            await page.FillAsync("#item-name", name);
            await page.FillAsync("#item-source", folder);
            if (name == "Docs")
            {
                await page.FillAsync("#item-passphrase", Passphrase);
                await page.FillAsync("#item-confirm-passphrase", Passphrase);
            }

            await page.GetByTestId("protect-submit").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/items/[0-9a-f-]{36}$"));
        }

        // Never backed up: not "Healthy", and no Restore yet.
        var itemUrl = page.Url;
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("item-health")).ToHaveTextAsync("Not backed up yet");
        await Expect(page.GetByTestId("item-rpo")).ToContainTextAsync("No recovery point yet: the first scheduled backup is due");
        await Expect(page.GetByTestId("item-restore-files")).ToHaveCountAsync(0);

        // An operator moves Share to the data folder, around Docs: warned, saved anyway with an exclude.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await browser.SignInLocallyAsync(app.BaseUrl, "Olga Operator", new Uri(itemUrl).AbsolutePath, "#role-operator");
        await Expect(page).ToHaveURLAsync(itemUrl);
        await browser.WaitInteractiveAsync();
        await page.GetByTestId("item-edit").ClickAsync();
        await Expect(page.GetByTestId("edit-scripts-locked")).ToContainTextAsync("Only a Backup.Contributor may change them");
        await page.FillAsync("#edit-source", data);
        await Expect(page.GetByTestId("item-overlap-row")).ToHaveTextAsync($"Docs (vault legal) protects {docs}, inside {data}.");
        await page.FillAsync("#edit-exclude", "docs/**");
        await browser.ScreenshotAsync("edit-with-overlap-warning");
        await page.GetByTestId("item-edit-save").ClickAsync();
        await Expect(page.GetByTestId("item-folder")).ToHaveTextAsync(data);

        // The next backup reads the new folder without the excluded docs; the item is healthy and offers Restore files.
        await page.GetByTestId("item-backup-now").ClickAsync();
        await page.GetByTestId("backup-now-submit").ClickAsync();
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("job-amounts")).ToContainTextAsync("1 of 1 files"); // ledger.txt, not docs/handbook.txt
        await page.ReloadAsync();
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("item-health")).ToHaveTextAsync("Healthy");
        await Expect(page.GetByTestId("item-restore-files")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("edited-and-backed-up");
    }
}
