using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>A contributor protects a folder, backs it up now and watches it live, then deletes its backup data with a second contributor's approval and undeletes it.</summary>
public sealed class ProtectionJourneyTests
{
    private const string Passphrase = "correct horse battery staple 42!";

    [Fact]
    public async Task A_contributor_protects_a_folder_backs_it_up_live_deletes_its_data_with_approval_and_undeletes_it()
    {
        await using var app = new PortalApp();
        var folder = Directory.CreateDirectory(Path.Combine(app.SourceRoot, "contracts")).FullName;
        for (var i = 1; i <= 5; i++)
            await File.WriteAllBytesAsync(Path.Combine(folder, $"contract-{i}.pdf"), RandomBytes(1_000_000 * i));
        await using var browser = await Browser.StartAsync("protection-journey");
        var page = browser.Page;

        // A vault, then "Protect a folder" on its page.
        await browser.SignInLocallyAsync(app.BaseUrl, "Carla Contributor", "/vaults");
        await browser.WaitInteractiveAsync();
        await browser.CreateVaultAsync(app.BaseUrl, "legal");
        await page.GetByTestId("protect-folder").ClickAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults/legal/protect");
        await browser.WaitInteractiveAsync();

        // The vault's first item asks for the passphrase twice; a mismatch is shown at its field.
        await page.FillAsync("#item-name", "Contracts");
        await page.FillAsync("#item-source", folder);
        await page.FillAsync("#item-passphrase", Passphrase);
        await Expect(page.GetByTestId("passphrase-strength")).ToContainTextAsync("strong");
        await page.FillAsync("#item-confirm-passphrase", Passphrase + "?");
        await page.GetByTestId("protect-submit").ClickAsync();
        await Expect(page.GetByTestId("protect-form")).ToContainTextAsync("The two passphrases differ");
        await page.FillAsync("#item-confirm-passphrase", Passphrase);
        await browser.ScreenshotAsync("protect-a-folder");

        // The recovery note is saved by the browser, with the vault and the passphrase.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("download-recovery-note").ClickAsync());
        Assert.StartsWith("recovery-note-legal-", download.SuggestedFilename);
        var note = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.Contains("vault legal", note);
        Assert.Contains(Passphrase, note);

        await page.GetByTestId("protect-submit").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/items/[0-9a-f-]{36}$"));
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("item-state")).ToHaveTextAsync("protected");
        await Expect(page.GetByTestId("recovery-points-empty")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("item-protected");

        // Back up now: the job appears, moves and completes, and its recovery point is listed, all without a reload.
        await page.GetByTestId("item-backup-now").ClickAsync();
        await Expect(page.Locator("#retain-until")).ToHaveValueAsync(DateTime.UtcNow.Date.AddDays(30).ToString("yyyy-MM-dd"));
        await browser.ScreenshotAsync("backup-now-dialog");
        await page.EvaluateAsync(RecordStatuses);
        await page.GetByTestId("backup-now-submit").ClickAsync();
        await Expect(page.GetByTestId("job-progress")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("backup-running");
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
        var statuses = await page.EvaluateAsync<string[]>("() => window.jobStatuses");
        Assert.True(statuses.Contains("In progress") && statuses[^1] == "Completed", string.Join(" → ", statuses));
        await Expect(page.GetByTestId("job-amounts")).ToContainTextAsync("15 MB of 15 MB");
        await Expect(page.GetByTestId("recovery-point-time")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("recovery-points")).ToContainTextAsync("On demand");
        await Expect(page.GetByTestId("item-last-backup")).ToContainTextAsync("Completed");
        await browser.ScreenshotAsync("backup-completed");

        // The item's jobs in the jobs list, then the job's page with its log.
        await page.GetByRole(AriaRole.Link, new() { Name = "All jobs of this item" }).ClickAsync();
        await Expect(page.GetByTestId("job-item-filter")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("job-row-status")).ToHaveTextAsync(["Completed"]);
        await page.GetByTestId("job-table").GetByRole(AriaRole.Link).First.ClickAsync();
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed");
        await Expect(page.GetByTestId("job-log-line").First).ToBeVisibleAsync();
        await Expect(page.GetByTestId("job-cancel")).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("job-log");
        await page.GetByTestId("job-item-link").ClickAsync();
        await browser.WaitInteractiveAsync();

        // Stop protection and delete data: typed name, then it waits for a second contributor.
        await page.GetByTestId("item-stop").ClickAsync();
        await page.GetByTestId("stop-delete").ClickAsync();
        await Expect(page.GetByTestId("stop-protection-submit")).ToBeDisabledAsync();
        await page.FillAsync("#stop-confirm-name", "Contracts");
        await Expect(page.GetByTestId("stop-protection-dialog")).ToContainTextAsync("second Backup.Contributor approves");
        await browser.ScreenshotAsync("stop-with-delete");
        await page.GetByTestId("stop-protection-submit").ClickAsync();
        await Expect(page.GetByTestId("item-pending-approval")).ToContainTextAsync("Stop protection of Contracts");
        await browser.ScreenshotAsync("deletion-requested");

        // A second contributor approves in their own browser.
        await using (var approver = await Browser.StartAsync("protection-journey-approver"))
        {
            await approver.SignInLocallyAsync(app.BaseUrl, "Dan Approver", "/approvals");
            await Expect(approver.Page).ToHaveURLAsync(app.BaseUrl + "/approvals");
            await approver.WaitInteractiveAsync();
            await approver.Page.GetByTestId("approval-approve").ClickAsync();
            await Expect(approver.Page.GetByTestId("approve-summary")).ToContainTextAsync("Stop protection of Contracts");
            await approver.Page.GetByTestId("approve-confirm").ClickAsync();
            await Expect(approver.Page.GetByTestId("approval-status")).ToHaveTextAsync("Approved");
            await approver.ScreenshotAsync("approved");
        }

        // Soft-deleted, with its purge date; undelete brings it back as "protection stopped".
        await page.ReloadAsync();
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("item-soft-deleted")).ToContainTextAsync("purged after");
        await Expect(page.GetByTestId("item-health")).ToHaveTextAsync("Soft-deleted");
        await browser.ScreenshotAsync("soft-deleted");
        await page.GetByTestId("item-undelete").ClickAsync();
        await Expect(page.GetByTestId("item-state")).ToHaveTextAsync("protection stopped, data kept");
        await Expect(page.GetByTestId("item-health")).ToHaveTextAsync("Protection stopped");
        await Expect(page.GetByTestId("item-resume")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("recovery-point-time")).ToHaveCountAsync(1);
        await browser.ScreenshotAsync("undeleted");

        // The items list shows it across vaults.
        await page.GotoAsync(app.BaseUrl + "/items");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("item-link")).ToHaveTextAsync(["Contracts"]);
        await Expect(page.GetByTestId("item-health")).ToHaveTextAsync("Protection stopped");
        await browser.ScreenshotAsync("items-list");

        // The vault's page lists it too; the vault has its passphrase now, so a second item does not ask for it.
        await page.GetByRole(AriaRole.Link, new() { Name = "legal", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults/legal");
        await Expect(page.GetByTestId("item-link")).ToHaveTextAsync(["Contracts"]);
        await page.GetByTestId("protect-folder").ClickAsync();
        await Expect(page.GetByTestId("protect-form")).ToBeVisibleAsync();
        await Expect(page.Locator("#item-passphrase")).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("second-item-without-passphrase");
    }

    /// <summary>
    /// Records every text the job's status chip shows, in order, without polling: each change's old value comes with its
    /// mutation record, so statuses that the browser applies in one task are not lost.
    /// </summary>
    private const string RecordStatuses = """
        () => {
          window.jobStatuses = [];
          const push = text => { if (text && window.jobStatuses.at(-1) !== text) window.jobStatuses.push(text); };
          new MutationObserver(records => {
            for (const r of records) {
              if (r.type === "characterData" && r.target.parentElement?.closest("[data-testid=job-status]"))
                push(r.oldValue.trim());
            }
            push(document.querySelector("[data-testid=item-jobs] [data-testid=job-status]")?.textContent.trim());
          }).observe(document.body, { subtree: true, childList: true, characterData: true, characterDataOldValue: true });
        }
        """;

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
